import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createCronPlanner } from '../../src/automation/cron-planner.ts'
import { nextRun, type PlanEntry } from '../../src/automation/cron-plan.ts'

const T0 = Date.parse('2026-05-01T08:00:00Z')
const MIN = 60_000

function counting () {
  const calls: string[] = []
  const computeNext = (schedule: string, tz: string, after: number): number | null => {
    calls.push(schedule)
    return nextRun(schedule, tz, after)
  }
  return { calls, computeNext }
}

test('takeDue returns the due jobs in time order and plans their following runs', () => {
  const planner = createCronPlanner()
  planner.sync([
    { id: 'hourly', schedule: '0 * * * *', timezone: 'UTC' },
    { id: 'quarter', schedule: '*/15 * * * *', timezone: 'UTC' },
    { id: 'nine', schedule: '0 9 * * *', timezone: 'UTC' }
  ], T0)
  assert.equal(planner.size, 3)
  assert.equal(planner.peek(), T0 + 15 * MIN)
  assert.deepEqual(planner.takeDue(T0 + 14 * MIN), [])
  assert.deepEqual(planner.takeDue(T0 + 15 * MIN), [{ id: 'quarter', at: T0 + 15 * MIN }])
  assert.equal(planner.nextRunOf('quarter'), T0 + 30 * MIN)
  assert.deepEqual(planner.takeDue(T0 + 30 * MIN), [{ id: 'quarter', at: T0 + 30 * MIN }])
  const nine = planner.takeDue(T0 + 60 * MIN)
  assert.deepEqual(nine.map((r) => r.id).sort(), ['hourly', 'nine', 'quarter'])
  assert.ok(nine.every((r, i) => i === 0 || nine[i - 1]!.at <= r.at))
  assert.equal(planner.nextRunOf('nine'), Date.parse('2026-05-02T09:00:00Z'))
})

test('runs missed during a long gap (suspend) fire once, then the job is back on its schedule', () => {
  const planner = createCronPlanner()
  planner.sync([{ id: 'quarter', schedule: '*/15 * * * *', timezone: 'UTC' }], T0)
  const wake = T0 + 2 * 60 * MIN + 5 * MIN
  assert.deepEqual(planner.takeDue(wake), [{ id: 'quarter', at: T0 + 15 * MIN }])
  assert.deepEqual(planner.takeDue(wake), [])
  assert.equal(planner.nextRunOf('quarter'), T0 + 2 * 60 * MIN + 15 * MIN)
})

test('a tick over 10,000 planned jobs recomputes only the jobs that fired', () => {
  const { calls, computeNext } = counting()
  const planner = createCronPlanner({ computeNext })
  const entries: PlanEntry[] = []
  for (let i = 0; i < 10_000; i++) {
    entries.push({ id: `job-${i}`, schedule: `${i % 60} ${i % 24} * * *`, timezone: i % 2 === 0 ? 'UTC' : 'Europe/Berlin' })
  }
  planner.sync(entries, T0)
  assert.equal(planner.size, 10_000)
  calls.length = 0
  for (let m = 1; m <= 30; m++) planner.takeDue(T0 + m * MIN)
  // In 30 minutes from 08:00 UTC the due jobs are the UTC ones at 08:01–08:30 and the Berlin ones at 10:01–10:30.
  const fired = entries.filter((e) => {
    const at = nextRun(e.schedule, e.timezone, T0)
    return at !== null && at <= T0 + 30 * MIN
  }).length
  assert.ok(fired > 0 && fired < 1_000)
  assert.ok(calls.length <= fired, `${calls.length} recomputations for ${fired} fired jobs`)

  calls.length = 0
  assert.deepEqual(planner.sync(entries, T0 + 30 * MIN), { added: 0, removed: 0, changed: 0 })
  assert.equal(calls.length, 0, 'an unchanged job list costs no cron evaluation')
})

test('jobs firing together with the same schedule and zone share one computation', () => {
  const { calls, computeNext } = counting()
  const planner = createCronPlanner({ computeNext })
  planner.sync(Array.from({ length: 500 }, (_, i) => ({ id: `m${i}`, schedule: '* * * * *', timezone: 'UTC' })), T0)
  calls.length = 0
  assert.equal(planner.takeDue(T0 + MIN).length, 500)
  assert.equal(calls.length, 1)
})

test('sync adds, changes and removes entries; a removed job is never due', () => {
  const planner = createCronPlanner()
  planner.sync([
    { id: 'a', schedule: '0 9 * * *', timezone: 'UTC' },
    { id: 'b', schedule: '0 10 * * *', timezone: 'UTC' }
  ], T0)
  const result = planner.sync([
    { id: 'a', schedule: '30 8 * * *', timezone: 'UTC' },
    { id: 'c', schedule: '0 11 * * *', timezone: 'UTC' }
  ], T0)
  assert.deepEqual(result, { added: 1, removed: 1, changed: 1 })
  assert.equal(planner.nextRunOf('a'), T0 + 30 * MIN)
  assert.equal(planner.nextRunOf('b'), null)
  const due = planner.takeDue(T0 + 4 * 60 * MIN)
  assert.deepEqual(due.map((r) => r.id), ['a', 'c'])
})

test('a zone change is a change; upsert and remove work one job at a time', () => {
  const planner = createCronPlanner()
  planner.upsert({ id: 'x', schedule: '0 9 * * *', timezone: 'UTC' }, T0)
  assert.equal(planner.nextRunOf('x'), T0 + 60 * MIN)
  assert.deepEqual(planner.sync([{ id: 'x', schedule: '0 9 * * *', timezone: 'Asia/Tokyo' }], T0), { added: 0, removed: 0, changed: 1 })
  assert.equal(planner.nextRunOf('x'), Date.parse('2026-05-02T00:00:00Z'))
  assert.equal(planner.remove('x'), true)
  assert.equal(planner.remove('x'), false)
  assert.equal(planner.peek(), null)
  assert.deepEqual(planner.takeDue(Date.parse('2026-06-01T00:00:00Z')), [])
})

test('an invalid schedule is logged and never due; the others still run', () => {
  const warnings: unknown[] = []
  const logger = { warn: (obj: unknown) => { warnings.push(obj) } } as never
  const planner = createCronPlanner({ logger })
  planner.sync([
    { id: 'bad', schedule: '0 0 9 * * *', timezone: 'UTC' },
    { id: 'good', schedule: '0 9 * * *', timezone: 'UTC' }
  ], T0)
  assert.equal(warnings.length, 1)
  assert.equal(planner.nextRunOf('bad'), null)
  assert.deepEqual(planner.takeDue(T0 + 60 * MIN).map((r) => r.id), ['good'])
})

test('after many replacements of one job only its latest plan counts; upcoming lists the soonest runs', () => {
  const planner = createCronPlanner()
  for (let i = 0; i < 2_000; i++) planner.upsert({ id: 'churn', schedule: `${i % 60} 9 * * *`, timezone: 'UTC' }, T0)
  planner.upsert({ id: 'early', schedule: '5 8 * * *', timezone: 'UTC' }, T0)
  assert.deepEqual(planner.upcoming(5), [
    { id: 'early', at: T0 + 5 * MIN },
    { id: 'churn', at: T0 + 60 * MIN + 19 * MIN }
  ])
  assert.equal(planner.size, 2)
  assert.deepEqual(planner.takeDue(T0 + 3 * 60 * MIN).map((r) => r.id), ['early', 'churn'])
})

test('a deferred sync plans nothing until asked; a job whose run fell due while it waited fires once, late', () => {
  const { calls, computeNext } = counting()
  const planner = createCronPlanner({ computeNext })
  const entries: PlanEntry[] = [
    { id: 'five', schedule: '5 8 * * *', timezone: 'UTC' },
    ...Array.from({ length: 300 }, (_, i) => ({ id: `j${i}`, schedule: `${i % 60} ${10 + (i % 5)} * * *`, timezone: 'UTC' }))
  ]
  assert.deepEqual(planner.sync(entries, T0, { defer: true }), { added: 301, removed: 0, changed: 0 })
  assert.equal(calls.length, 0, 'no cron evaluation at sync time')
  assert.equal(planner.pending, 301)
  assert.equal(planner.size, 301)
  assert.deepEqual(planner.takeDue(T0 + 10 * MIN), [], 'a job not planned yet is not due yet')

  // Planned in slices, after its minute had passed: planned from the sync, so its 08:05 run is due now.
  assert.equal(planner.planPending(0, 1), 300)
  assert.equal(planner.planPending(Infinity), 0)
  assert.deepEqual(planner.takeDue(T0 + 10 * MIN), [{ id: 'five', at: T0 + 5 * MIN }])
  assert.deepEqual(planner.takeDue(T0 + 10 * MIN), [], 'once')
  assert.equal(planner.nextRunOf('five'), Date.parse('2026-05-02T08:05:00Z'))
})

test('asking for one pending job plans it; upcoming plans all; a removed or replaced pending job is not planned', () => {
  const { calls, computeNext } = counting()
  const planner = createCronPlanner({ computeNext })
  planner.sync([
    { id: 'a', schedule: '0 9 * * *', timezone: 'UTC' },
    { id: 'b', schedule: '0 10 * * *', timezone: 'UTC' },
    { id: 'c', schedule: '0 11 * * *', timezone: 'UTC' }
  ], T0, { defer: true })
  assert.equal(planner.nextRunOf('b'), T0 + 2 * 60 * MIN)
  assert.equal(planner.pending, 2)
  planner.sync([
    { id: 'a', schedule: '30 8 * * *', timezone: 'UTC' },
    { id: 'b', schedule: '0 10 * * *', timezone: 'UTC' }
  ], T0, { defer: true })
  assert.equal(planner.pending, 1, 'c removed, a replaced')
  calls.length = 0
  assert.deepEqual(planner.upcoming(5), [{ id: 'a', at: T0 + 30 * MIN }, { id: 'b', at: T0 + 2 * 60 * MIN }])
  assert.deepEqual(calls, ['30 8 * * *'], 'only the latest version of a is planned')
  assert.equal(planner.pending, 0)
})

test('takeDue with a limit hands out the soonest due runs first and keeps the rest due', () => {
  const planner = createCronPlanner()
  planner.sync(Array.from({ length: 150 }, (_, i) => ({ id: `m${i}`, schedule: `${1 + (i % 3)} 8 * * *`, timezone: 'UTC' })), T0)
  const first = planner.takeDue(T0 + 5 * MIN, 64)
  assert.equal(first.length, 64)
  assert.equal(first.filter((r) => r.at === T0 + MIN).length, 50, 'every 08:01 run before any later one')
  assert.ok(first.every((r, i) => i === 0 || first[i - 1]!.at <= r.at))
  const rest = [...planner.takeDue(T0 + 5 * MIN, 64), ...planner.takeDue(T0 + 5 * MIN, 64)]
  assert.equal(rest.length, 86)
  assert.deepEqual(new Set([...first, ...rest].map((r) => r.id)).size, 150)
  assert.deepEqual(planner.takeDue(T0 + 5 * MIN), [])
})

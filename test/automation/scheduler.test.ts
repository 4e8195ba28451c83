import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createAutomationScheduler, type SchedulerDeps } from '../../src/automation/scheduler.ts'
import { createCronStore } from '../../src/automation/cron-store.ts'
import { createCronPlanner } from '../../src/automation/cron-planner.ts'
import type { TaskRunRequest, TaskRunResult } from '../../src/automation/task-run-types.ts'
import { tempDir, testConfig, memoryLogger, waitFor } from '../helper.ts'
import type { Config } from '../../src/config.ts'

const T0 = Date.parse('2026-06-15T12:00:30Z')
const MIN = 60_000

interface Deferred { resolve: (r: TaskRunResult) => void, request: TaskRunRequest }

async function setup (t: TestContext, opts: Partial<Omit<SchedulerDeps, 'config'>> & { config?: Config } = {}) {
  const { config: initialConfig, ...over } = opts
  const dir = await tempDir(t)
  let now = T0
  const clock = { now: () => now }
  const { logger, lines } = memoryLogger()
  const path = join(dir, 'cron_jobs.json')
  const store = createCronStore({ path, clock })
  await store.load()
  const calls: Deferred[] = []
  const swept: number[] = []
  const cleanups: number[] = []
  const heartbeats: number[] = []
  let config = initialConfig ?? testConfig({ user_timezone: 'UTC' })
  const scheduler = createAutomationScheduler({
    config: () => config,
    clock,
    logger,
    timezone: () => 'UTC',
    cronStore: store,
    planner: createCronPlanner(),
    runTask: async (request) => await new Promise<TaskRunResult>((resolve) => { calls.push({ request, resolve }) }),
    heartbeatRound: async () => { heartbeats.push(clock.now()) },
    cleanup: async () => { cleanups.push(clock.now()) },
    sweepStale: async (maxAgeMs) => { swept.push(maxAgeMs); return 0 },
    ...over
  })
  t.after(() => scheduler.stop())
  const ok = (runId = 'r'): TaskRunResult => ({ status: 'success', runId, reply: 'ok', error: null })
  return {
    scheduler,
    store,
    path,
    calls,
    swept,
    cleanups,
    heartbeats,
    lines,
    ok,
    setConfig: (c: Config) => { config = c },
    at: (t: number) => { now = t },
    advance: (ms: number) => { now += ms }
  }
}

test('a job never overlaps itself: a fire during its run is skipped, the next one after it runs', async (t) => {
  const s = await setup(t)
  await s.store.create({ id: 'slow', title: 'Slow', schedule: '* * * * *' })
  await s.scheduler.tick()
  s.at(Date.parse('2026-06-15T12:01:00Z'))
  assert.deepEqual((await s.scheduler.tick()).started, ['slow'])
  assert.equal(s.calls.length, 1)
  assert.equal(s.calls[0]?.request.kind, 'cron')
  assert.equal(s.calls[0]?.request.ref, 'slow')

  s.at(Date.parse('2026-06-15T12:02:00Z'))
  const second = await s.scheduler.tick()
  assert.deepEqual(second.started, [])
  assert.deepEqual(second.overlapping, ['slow'])
  assert.equal(s.calls.length, 1, 'no second run while the first is going')
  assert.ok(s.lines.some((l) => l.includes('still running')))
  assert.throws(() => s.scheduler.runJobNow('slow'), { code: 'conflict' })

  s.calls[0]?.resolve(s.ok())
  await s.scheduler.idle()
  assert.equal(s.store.get('slow')?.last_run_status, 'success')
  assert.equal(s.store.get('slow')?.last_run_at, '2026-06-15T12:02:00.000Z')
  s.at(Date.parse('2026-06-15T12:03:00Z'))
  assert.deepEqual((await s.scheduler.tick()).started, ['slow'])
  s.calls[1]?.resolve(s.ok())
  await s.scheduler.idle()
})

test('hand edits are picked up every few seconds and re-planned; a disabled job stops firing', async (t) => {
  const s = await setup(t, { reloadEveryMs: 5000 })
  await s.scheduler.tick()
  const job = { id: 'a', title: 'A', schedule: '* * * * *', task_folder: 'a', agent_instruction: 'go' }
  await writeFile(s.path, JSON.stringify({ jobs: [job] }))
  s.advance(2000)
  await s.scheduler.tick()
  assert.equal(s.store.get('a'), undefined, 'not read again before a few seconds have passed')
  s.advance(3000)
  await s.scheduler.tick()
  assert.equal(s.store.get('a')?.title, 'A')
  s.at(Date.parse('2026-06-15T12:01:00Z'))
  assert.deepEqual((await s.scheduler.tick()).started, ['a'])
  s.calls[0]?.resolve(s.ok())
  await s.scheduler.idle()

  const [edited] = JSON.parse(await readFile(s.path, 'utf8')).jobs
  await writeFile(s.path, JSON.stringify({ jobs: [{ ...edited, enabled: false }] }))
  s.at(Date.parse('2026-06-15T12:01:30Z'))
  await s.scheduler.tick()
  s.at(Date.parse('2026-06-15T12:02:00Z'))
  assert.deepEqual((await s.scheduler.tick()).started, [], 'disabled by hand')
  assert.equal(s.calls.length, 1)
})

test('a failing part is logged and the rest of the tick and the loop go on', async (t) => {
  let reloads = 0
  const s = await setup(t, { tickMs: 10, reloadEveryMs: 0 })
  const realStore = s.store
  const brokenStore = {
    ...realStore,
    get revision () { return realStore.revision },
    list: realStore.list,
    get: realStore.get,
    recordRun: realStore.recordRun,
    reload: async () => { reloads++; throw new Error('disk on fire') }
  }
  const { logger, lines } = memoryLogger()
  let now = T0
  const scheduler = createAutomationScheduler({
    config: () => testConfig({ user_timezone: 'UTC', heartbeat: { enabled: true, interval_minutes: 1 } }),
    clock: { now: () => now },
    logger,
    timezone: () => 'UTC',
    cronStore: brokenStore,
    planner: createCronPlanner(),
    runTask: async () => s.ok(),
    heartbeatRound: async () => { throw new Error('heartbeat broke') },
    cleanup: async () => { throw new Error('cleanup broke') },
    sweepStale: async () => 0,
    tickMs: 10,
    reloadEveryMs: 0
  })
  t.after(() => scheduler.stop())
  const report = await scheduler.tick()
  assert.deepEqual(report.errors, ['reload'], 'a failing reload is caught and the cron part still ran')
  assert.equal(report.cleanup, false, 'never at start')
  now += 2 * MIN
  const again = await scheduler.tick()
  assert.ok(again.heartbeat, 'the heartbeat still starts')
  now += 24 * 60 * MIN
  assert.ok((await scheduler.tick()).cleanup, 'the cleanup still starts (the next day)')
  await scheduler.idle()
  assert.ok(lines.some((l) => l.includes('heartbeat broke')))
  assert.ok(lines.some((l) => l.includes('cleanup broke')))

  scheduler.start()
  assert.equal(scheduler.started, true)
  const before = reloads
  await waitFor(() => reloads >= before + 3 ? true : undefined, 5000, 'the loop to keep ticking')
  await scheduler.stop()
  assert.equal(scheduler.started, false)
  const stoppedAt = reloads
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(reloads, stoppedAt, 'stop() stops the loop')
})

test('a tick whose clock throws is logged and the next one works', async (t) => {
  const { logger, lines } = memoryLogger()
  let fail = false
  const s = await setup(t)
  const scheduler = createAutomationScheduler({
    config: () => testConfig({ user_timezone: 'UTC' }),
    clock: { now: () => { if (fail) throw new Error('clock broke'); return T0 } },
    logger,
    timezone: () => 'UTC',
    cronStore: s.store,
    planner: createCronPlanner(),
    runTask: async () => s.ok(),
    heartbeatRound: async () => {},
    cleanup: async () => {},
    sweepStale: async () => 0
  })
  fail = true
  const broken = await scheduler.tick()
  assert.deepEqual(broken.errors, ['clock'])
  assert.ok(lines.some((l) => l.includes('clock broke')))
  fail = false
  assert.deepEqual((await scheduler.tick()).errors, [])
})

test('the heartbeat runs every interval_minutes after a stale sweep, not when disabled', async (t) => {
  const config = testConfig({ user_timezone: 'UTC', cli_timeout: 100, heartbeat: { enabled: true, interval_minutes: 30 } })
  const s = await setup(t, { config })
  await s.scheduler.tick()
  s.advance(29 * MIN)
  assert.equal((await s.scheduler.tick()).heartbeat, false)
  s.advance(1 * MIN)
  assert.equal((await s.scheduler.tick()).heartbeat, true)
  await s.scheduler.idle()
  assert.equal(s.heartbeats.length, 1)
  assert.ok(s.swept.includes(200_000), 'processes older than twice cli_timeout are swept')
  s.advance(30 * MIN)
  assert.equal((await s.scheduler.tick()).heartbeat, true)
  await s.scheduler.idle()
  assert.equal(s.heartbeats.length, 2)
  s.setConfig(testConfig({ user_timezone: 'UTC', heartbeat: { enabled: false } }))
  s.advance(60 * MIN)
  assert.equal((await s.scheduler.tick()).heartbeat, false)
})

test('a wall-clock gap (suspend) is detected, logged and followed by a stale sweep; missed runs collapse into one', async (t) => {
  const s = await setup(t)
  await s.store.create({ id: 'm', title: 'M', schedule: '* * * * *' })
  await s.scheduler.tick()
  s.advance(1000)
  await s.scheduler.tick()
  const swept = s.swept.length
  s.advance(3 * 60 * MIN)
  const report = await s.scheduler.tick()
  assert.equal(report.gapMs, 3 * 60 * MIN)
  assert.ok(s.lines.some((l) => l.includes('wall-clock gap')))
  assert.equal(s.swept.length, swept + 1)
  assert.deepEqual(report.started, ['m'], 'one run for the whole gap')
  assert.equal(s.calls.length, 1)
  s.calls[0]?.resolve(s.ok())
  await s.scheduler.idle()
})

test('the cleanup never runs at start, even started long after check_hour (SPEC §8.4)', async (t) => {
  const config = testConfig({ user_timezone: 'UTC', cleanup: { enabled: true, check_hour: 3 } })
  const s = await setup(t, { config }) // created at 12:00, nine hours after check_hour
  assert.equal((await s.scheduler.tick()).cleanup, false)
  s.at(T0 + 11 * 60 * MIN)
  assert.equal((await s.scheduler.tick()).cleanup, false, 'not later that day either')
  s.at(Date.parse('2026-06-16T03:00:05Z'))
  assert.equal((await s.scheduler.tick()).cleanup, true, 'first at the next check_hour')
  await s.scheduler.idle()
  assert.equal(s.cleanups.length, 1)
})

test('the cleanup runs once a day at check_hour local time', async (t) => {
  const config = testConfig({ user_timezone: 'UTC', cleanup: { enabled: true, check_hour: 3 } })
  const s = await setup(t, { config })
  s.at(Date.parse('2026-06-16T02:59:00Z'))
  assert.equal((await s.scheduler.tick()).cleanup, false)
  s.at(Date.parse('2026-06-16T03:00:05Z'))
  assert.equal((await s.scheduler.tick()).cleanup, true)
  await s.scheduler.idle()
  s.at(Date.parse('2026-06-16T15:00:00Z'))
  assert.equal((await s.scheduler.tick()).cleanup, false, 'once a day')
  s.at(Date.parse('2026-06-17T03:00:01Z'))
  assert.equal((await s.scheduler.tick()).cleanup, true, 'and again the next day')
  await s.scheduler.idle()
  assert.equal(s.cleanups.length, 2)
})

test('when hundreds of jobs fall due in the same minute every one starts once, the tick starting a first slice', async (t) => {
  const s = await setup(t, { reloadEveryMs: 0 })
  const job = (i: number): Record<string, unknown> => ({ id: `m${i}`, title: `M${i}`, schedule: '1 12 * * *', task_folder: `m${i}`, agent_instruction: 'go' })
  await writeFile(s.path, JSON.stringify({ jobs: Array.from({ length: 400 }, (_, i) => job(i)) }))
  await s.scheduler.tick()
  assert.equal(s.store.list().length, 400)
  s.at(Date.parse('2026-06-15T12:01:00Z'))
  const report = await s.scheduler.tick()
  assert.ok(report.started.length >= 32 && report.started.length <= 400, `${report.started.length} started by the tick itself`)
  // The rest are started between event-loop turns, right after the tick.
  await waitFor(() => s.calls.length === 400 ? true : undefined, 10_000, '400 runs started')
  assert.equal(new Set(s.calls.map((c) => c.request.ref)).size, 400)
  s.advance(1000)
  assert.deepEqual((await s.scheduler.tick()).started, [], 'none twice')
  for (const c of s.calls) c.resolve(s.ok())
  await s.scheduler.idle()
})

test('stopping the loop drops due runs not started yet; they are not started later', async (t) => {
  const s = await setup(t, { reloadEveryMs: 0 })
  const job = (i: number): Record<string, unknown> => ({ id: `m${i}`, title: `M${i}`, schedule: '1 12 * * *', task_folder: `m${i}`, agent_instruction: 'go' })
  await writeFile(s.path, JSON.stringify({ jobs: Array.from({ length: 3000 }, (_, i) => job(i)) }))
  await s.scheduler.tick()
  s.at(Date.parse('2026-06-15T12:01:00Z'))
  const report = await s.scheduler.tick()
  await s.scheduler.stop()
  const count = s.calls.length
  assert.ok(count >= report.started.length && count <= 3000)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(s.calls.length, count, 'nothing started after stop')
  for (const c of s.calls) c.resolve(s.ok())
  await s.scheduler.idle()
})

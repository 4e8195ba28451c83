import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, appendFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Compile } from 'typebox/compile'
import { createRunHistory, newRunId, RunSchema } from '../../src/store/run-history.ts'
import type { RunHistoryOptions } from '../../src/store/run-history.ts'
import { DuctorError } from '../../src/errors.ts'

async function tempPath (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-runs-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'runs.jsonl')
}

function fakeClock (start = Date.parse('2025-03-01T08:00:00Z')) {
  let now = start
  return { now: () => now, advance (ms: number) { now += ms } }
}

function open (path: string, extra: Partial<RunHistoryOptions> = {}) {
  return createRunHistory({ path, clock: fakeClock(), ...extra })
}

const validRun = Compile(RunSchema)

test('a run is listed as running while active, then with how it ended', async (t) => {
  const clock = fakeClock()
  const history = await open(await tempPath(t), { clock })
  t.after(() => history.close())
  const run = await history.start({ kind: 'chat', chat_id: 4242, provider: 'claude', model: 'opus' })
  assert.deepEqual(Object.keys(run), ['id', 'kind', 'ref', 'chat_id', 'provider', 'model', 'status', 'started_at', 'ended_at', 'cost_usd', 'tokens', 'error'])
  assert.equal(run.status, 'running')
  assert.equal(run.started_at, '2025-03-01T08:00:00.000Z')
  assert.deepEqual(history.active().map((r) => r.id), [run.id])

  clock.advance(12_500)
  const ended = await history.finish(run.id, { status: 'success', cost_usd: 0.0123, tokens: 5120 })
  assert.deepEqual(ended, { ...run, status: 'success', ended_at: '2025-03-01T08:00:12.500Z', cost_usd: 0.0123, tokens: 5120 })
  assert.deepEqual(history.get(run.id), { ...ended, reply: null }, 'one run comes with its reply (none here)')
  assert.equal(history.active().length, 0)
  assert.ok(validRun.Check(ended), 'matches the schema the admin API publishes')
})

test('a run keeps its reply and error text, bounded and masked, across a reopen; lists leave the reply out', async (t) => {
  const path = await tempPath(t)
  const secret = 'sk-live-0123456789abcdef'
  const mask = (text: string): string => text.replaceAll(secret, '[REDACTED]')
  const history = await open(path, { mask })
  const ok = await history.record({ kind: 'cron', ref: 'digest', status: 'success', reply: `Here it is: ${secret}` })
  const long = await history.record({ kind: 'cron', ref: 'digest', status: 'success', reply: 'y'.repeat(8005) })
  const failed = await history.record({ kind: 'cron', ref: 'digest', status: 'error:exit_1', error: `failed with ${secret}`, reply: '' })
  assert.equal(history.get(ok.id)?.reply, 'Here it is: [REDACTED]')
  assert.equal(history.get(long.id)?.reply, `${'y'.repeat(8000)}\n… [5 more characters not kept]`)
  assert.equal(history.get(failed.id)?.reply, null)
  assert.equal(history.get(failed.id)?.error, 'failed with [REDACTED]')
  assert.ok(history.list().every((r) => !('reply' in r)))
  await history.close()
  assert.doesNotMatch(await readFile(path, 'utf8'), new RegExp(secret))
  const again = await open(path)
  t.after(() => again.close())
  assert.equal(again.get(ok.id)?.reply, 'Here it is: [REDACTED]')
})

test('list filters by kind, status family, ref and chat, newest first, with a limit', async (t) => {
  const clock = fakeClock()
  const history = await open(await tempPath(t), { clock })
  t.after(() => history.close())
  const add = async (kind: 'chat' | 'cron' | 'webhook' | 'heartbeat', ref: string | null, status: 'success' | `error:${string}` | `skipped:${string}`) => {
    clock.advance(1000)
    return (await history.record({ kind, ref, chat_id: 7, status, error: status.startsWith('error') ? 'boom' : null })).id
  }
  const c1 = await add('cron', 'daily-news', 'success')
  const c2 = await add('cron', 'daily-news', 'error:timeout')
  const w1 = await add('webhook', 'github', 'error:exit_1')
  const s1 = await add('cron', 'other', 'skipped:quiet_hours')
  const h1 = await add('heartbeat', null, 'success')
  clock.advance(1000)
  const running = (await history.start({ kind: 'chat', chat_id: 8 })).id

  assert.deepEqual(history.list().map((r) => r.id), [running, h1, s1, w1, c2, c1])
  assert.deepEqual(history.list({ kind: 'cron' }).map((r) => r.id), [s1, c2, c1])
  assert.deepEqual(history.list({ status: 'error' }).map((r) => r.id), [w1, c2])
  assert.deepEqual(history.list({ status: 'error:timeout' }).map((r) => r.id), [c2])
  assert.deepEqual(history.list({ status: 'running' }).map((r) => r.id), [running])
  assert.deepEqual(history.list({ ref: 'daily-news' }).map((r) => r.id), [c2, c1])
  assert.deepEqual(history.list({ chat_id: '8' }).map((r) => r.id), [running])
  assert.deepEqual(history.list({ limit: 2 }).map((r) => r.id), [running, h1])
  assert.equal(history.get(s1)?.ended_at, history.get(s1)?.started_at, 'a one-shot record starts and ends at once')
})

test('finished runs survive a crash; a run cut off by it becomes error:interrupted', async (t) => {
  const path = await tempPath(t)
  const first = await open(path)
  const done = await first.start({ kind: 'cron', ref: 'job-1', provider: 'codex', model: 'gpt-5' })
  await first.finish(done.id, { status: 'success', cost_usd: 0.5, tokens: 100 })
  const cut = await first.start({ kind: 'webhook', ref: 'hook-1' })
  // Crash: no close, and a half-written line at the end.
  await appendFile(path, '{"id":"half","kind":"chat","status":"succ')

  const second = await open(path)
  assert.equal(second.get(done.id)?.status, 'success')
  assert.equal(second.get(done.id)?.cost_usd, 0.5)
  assert.equal(second.get('half'), undefined)
  assert.equal(second.get(cut.id)?.status, 'error:interrupted')
  assert.equal(second.get(cut.id)?.ended_at, null)
  assert.equal(second.active().length, 0)
  const after = await second.start({ kind: 'chat' })
  await second.close()

  const third = await open(path)
  t.after(() => third.close())
  assert.equal(third.get(cut.id)?.status, 'error:interrupted', 'the verdict was written down')
  assert.equal(third.get(after.id)?.status, 'error:interrupted')
  assert.equal(third.list({ limit: 10 }).length, 3)
})

test('history is bounded: the newest maxRuns are kept, running ones never dropped', async (t) => {
  const path = await tempPath(t)
  const clock = fakeClock()
  const history = await open(path, { clock, maxRuns: 20 })
  const longRunning = await history.start({ kind: 'chat' })
  for (let i = 0; i < 100; i++) {
    clock.advance(1000)
    await history.record({ kind: 'cron', ref: `job-${i}`, status: 'success' })
  }
  const listed = history.list({ limit: 1000 })
  assert.equal(listed.length, 20)
  assert.equal(listed[0]?.ref, 'job-99')
  assert.ok(listed.some((r) => r.id === longRunning.id))
  await history.close()
  const lines = (await readFile(path, 'utf8')).split('\n').length - 1
  assert.ok(lines <= 41, `the file is rotated (${lines} lines)`)
  const again = await open(path, { maxRuns: 20 })
  t.after(() => again.close())
  assert.equal(again.list({ limit: 1000 }).length, 20)
})

test('history bound over many runs: a long run held while thousands pass is the first to go once it ends; the newest maxRuns stay', async (t) => {
  const path = await tempPath(t)
  const clock = fakeClock()
  const history = await open(path, { clock, maxRuns: 50 })
  t.after(() => history.close())
  const longRunning = await history.start({ kind: 'chat' })
  for (let i = 0; i < 3000; i++) {
    clock.advance(10)
    await history.record({ kind: 'webhook', ref: `hook-${i}`, status: 'success' })
  }
  let listed = history.list({ limit: 1000 })
  assert.equal(listed.length, 50)
  assert.ok(listed.some((r) => r.id === longRunning.id), 'the running run is kept')
  assert.deepEqual(listed.filter((r) => r.id !== longRunning.id).map((r) => r.ref), Array.from({ length: 49 }, (_, i) => `hook-${2999 - i}`))
  await history.finish(longRunning.id, { status: 'success' })
  clock.advance(10)
  await history.record({ kind: 'webhook', ref: 'hook-last', status: 'success' })
  listed = history.list({ limit: 1000 })
  assert.equal(listed.length, 50)
  assert.ok(!listed.some((r) => r.id === longRunning.id), 'once ended it is the oldest, and goes first')
  assert.equal(listed[0]?.ref, 'hook-last')
  assert.equal(listed.at(-1)?.ref, 'hook-2951')
})

test('bad input is refused; unknown or finished runs are left alone', async (t) => {
  const history = await open(await tempPath(t))
  t.after(() => history.close())
  const run = await history.start({ kind: 'chat', id: 'r-1' })
  await assert.rejects(history.start({ kind: 'chat', id: 'r-1' }), (err: unknown) => err instanceof DuctorError && err.code === 'conflict')
  await assert.rejects(history.start({ kind: 'email' as 'chat' }), DuctorError)
  await assert.rejects(history.finish(run.id, { status: 'ok' as 'success' }), DuctorError)
  assert.equal(await history.finish('nope', { status: 'success' }), undefined)
  await history.finish(run.id, { status: 'error:aborted', error: 'stopped by the user' })
  const again = await history.finish(run.id, { status: 'success' })
  assert.equal(again?.status, 'error:aborted')
  assert.equal(again?.error, 'stopped by the user')
})

test('run ids: start time in base 36 and 6 random hex digits, fresh randomness across the id pool refills', () => {
  const ids = Array.from({ length: 3000 }, () => newRunId(1_700_000_000_000))
  for (const id of ids) assert.match(id, /^[0-9a-z]+-[0-9a-f]{6}$/)
  const randomParts = new Set(ids.map((id) => id.split('-')[1]))
  // 3,000 draws of 24 bits: a collision or two at most; a pool that was reused would repeat every 1,024.
  assert.ok(randomParts.size >= 2990, `${randomParts.size} distinct random parts in 3000 ids`)
})

test('runs started and finished while the file is rewritten read back as they ended, and the file stays bounded (ADR 0041)', async (t) => {
  const path = await tempPath(t)
  const clock = fakeClock()
  const history = await open(path, { clock, maxRuns: 1000 })
  // Each round passes the rewrite threshold (2 × maxRuns lines) once; runs start before and end after it.
  const open_: string[] = []
  for (let i = 0; i < 6000; i++) {
    clock.advance(1)
    if (i % 100 === 0) open_.push((await history.start({ kind: 'chat', chat_id: i })).id)
    await history.record({ kind: 'webhook', ref: `hook-${i}`, status: 'success' })
    if (i % 100 === 50) await history.finish(open_.shift()!, { status: 'success', reply: `reply ${i}` })
  }
  const newest = history.list({ limit: 1000 }).map((r) => [r.id, r.status])
  const last = open_.at(-1)!
  await history.close()
  const lines = (await readFile(path, 'utf8')).split('\n').length - 1
  assert.ok(lines <= 2 * 1000 + 1, `the file was rewritten as it grew (${lines} lines)`)
  const again = await open(path, { maxRuns: 1000 })
  t.after(() => again.close())
  assert.deepEqual(again.list({ limit: 1000 }).map((r) => [r.id, r.status]), newest.map(([id, status]) => [id, id === last ? 'error:interrupted' : status]))
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, readFile, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionStore } from '../../src/core/session-store.ts'
import type { SessionStoreOptions } from '../../src/core/session-store.ts'
import type { SessionRules } from '../../src/core/sessions.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'

const rules: SessionRules = { idle_timeout_minutes: 60, max_session_messages: null, daily_reset_enabled: false, daily_reset_hour: 4, timezone: 'UTC' }

const opened: Array<{ flush: () => Promise<void> }> = []

/** A temp dir removed after the test, once every store opened meanwhile has finished writing. */
async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-sessions-'))
  t.after(async () => {
    await Promise.all(opened.splice(0).map((s) => s.flush().catch(() => {})))
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

function fakeClock (iso = '2025-03-01T10:00:00.000Z') {
  let now = Date.parse(iso)
  return { now: () => now, advance (ms: number) { now += ms } }
}

function countingWriter () {
  const writer = {
    writes: 0,
    write: async (path: string, value: unknown) => { writer.writes++; await writeJsonAtomic(path, value) }
  }
  return writer
}

async function open (path: string, extra: Partial<SessionStoreOptions> = {}) {
  const store = await createSessionStore({ path, clock: fakeClock(), ...extra })
  opened.push(store)
  return store
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('first message creates the chat, the next one resumes the session the CLI reported', async (t) => {
  const path = join(await tempDir(t), 'sessions.json')
  const clock = fakeClock()
  const store = await open(path, { clock })
  const first = store.resolveForRun(4242, 'claude', 'opus', rules)
  assert.deepEqual([first.sessionId, first.isNew, first.reason], [null, true, 'created'])
  store.recordResult(4242, 'claude', { sessionId: 'sess-1', costUsd: 0.02, tokens: 1500 })
  clock.advance(60_000)
  const second = store.resolveForRun('4242', 'claude', 'opus', rules)
  assert.deepEqual([second.sessionId, second.isNew, second.reason], ['sess-1', false, 'resumed'])
  await store.flush()

  const onDisk = JSON.parse(await readFile(path, 'utf8'))
  assert.deepEqual(onDisk, {
    4242: {
      chat_id: 4242,
      provider: 'claude',
      model: 'opus',
      created_at: '2025-03-01T10:00:00.000Z',
      last_active: '2025-03-01T10:00:00.000Z',
      provider_sessions: { claude: { session_id: 'sess-1', message_count: 1, total_cost_usd: 0.02, total_tokens: 1500, started_at: '2025-03-01T10:00:00.000Z' } }
    }
  })
  const again = await open(path)
  assert.deepEqual(again.get(4242), onDisk['4242'])
})

test('a sessions.json from the Python ductor loads, migrates flat entries and keeps unknown fields', async (t) => {
  const path = join(await tempDir(t), 'sessions.json')
  await writeFile(path, JSON.stringify({
    111: { chat_id: 111, provider: 'claude', model: 'sonnet', session_id: 'old-flat', message_count: 4, total_cost_usd: 0.4, total_tokens: 400, created_at: '2025-03-01T09:00:00+00:00', last_active: '2025-03-01T09:30:00+00:00' },
    222: { chat_id: 222, transport: 'tg', topic_id: null, reasoning_effort: 'high', provider: 'codex', model: 'gpt-5', created_at: '2025-03-01T09:00:00+00:00', last_active: '2025-03-01T09:45:00+00:00', provider_sessions: { codex: { session_id: 'th-1', message_count: 2, total_cost_usd: 0, total_tokens: 10 } } }
  }))
  const store = await open(path)
  assert.equal(store.resolveForRun(111, 'claude', 'sonnet', rules).sessionId, 'old-flat')
  assert.equal(store.resolveForRun(222, 'codex', 'gpt-5', rules).sessionId, 'th-1')
  await store.flush()
  const onDisk = JSON.parse(await readFile(path, 'utf8'))
  assert.equal(onDisk['111'].session_id, undefined, 'written back in the bucket shape')
  assert.deepEqual(onDisk['111'].provider_sessions.claude, { session_id: 'old-flat', message_count: 4, total_cost_usd: 0.4, total_tokens: 400 })
  assert.equal(onDisk['222'].transport, 'tg')
  assert.equal(onDisk['222'].reasoning_effort, 'high')
  assert.ok('topic_id' in onDisk['222'])
})

test('/new clears only the active provider; switching provider keeps both histories', async (t) => {
  const store = await open(join(await tempDir(t), 'sessions.json'))
  store.resolveForRun(1, 'claude', 'opus', rules)
  store.recordResult(1, 'claude', { sessionId: 'c-1' })
  store.setModel(1, 'codex', 'gpt-5')
  assert.equal(store.get(1)?.provider, 'codex')
  assert.deepEqual(store.resolveForRun(1, 'codex', 'gpt-5', rules).reason, 'empty')
  store.recordResult(1, 'codex', { sessionId: 'x-1' })
  store.setModel(1, 'claude', 'opus')
  assert.equal(store.resolveForRun(1, 'claude', 'opus', rules).sessionId, 'c-1', 'switching back resumes')

  assert.equal(store.resetProvider(1, 'claude'), true)
  assert.equal(store.resetProvider(1, 'claude'), false)
  const after = store.resolveForRun(1, 'claude', 'opus', rules)
  assert.deepEqual([after.sessionId, after.isNew], [null, true])
  assert.equal(store.get(1)?.provider_sessions.codex?.session_id, 'x-1')
})

test('stale by time loses every bucket; past the message limit only its own', async (t) => {
  const clock = fakeClock()
  const store = await open(join(await tempDir(t), 'sessions.json'), { clock })
  store.resolveForRun(1, 'claude', 'opus', rules)
  store.recordResult(1, 'claude', { sessionId: 'c-1' })
  store.recordResult(1, 'codex', { sessionId: 'x-1' })
  store.recordResult(1, 'codex', { sessionId: 'x-1' })

  const limited = { ...rules, max_session_messages: 2 }
  const byCount = store.resolveForRun(1, 'codex', 'gpt-5', limited)
  assert.deepEqual([byCount.sessionId, byCount.reason], [null, 'max_messages'])
  assert.equal(byCount.entry.provider_sessions.claude?.session_id, 'c-1')
  assert.equal(byCount.entry.provider_sessions.codex, undefined)

  clock.advance(60 * 60_000)
  const byTime = store.resolveForRun(1, 'claude', 'opus', rules)
  assert.deepEqual([byTime.sessionId, byTime.reason], [null, 'idle'])
  assert.deepEqual(byTime.entry.provider_sessions, {})
  assert.equal(byTime.entry.created_at, '2025-03-01T11:00:00.000Z', 'a new session starts now')
})

test('daily reset in the user time zone through the store', async (t) => {
  const clock = fakeClock('2025-07-01T01:30:00.000Z') // 03:30 in Berlin (summer time)
  const store = await open(join(await tempDir(t), 'sessions.json'), { clock })
  const daily = { ...rules, idle_timeout_minutes: 0, daily_reset_enabled: true, daily_reset_hour: 4, timezone: 'Europe/Berlin' }
  store.resolveForRun(9, 'claude', 'opus', daily)
  store.recordResult(9, 'claude', { sessionId: 's' })
  clock.advance(20 * 60_000) // 03:50
  assert.equal(store.resolveForRun(9, 'claude', 'opus', daily).reason, 'resumed')
  clock.advance(20 * 60_000) // 04:10
  assert.equal(store.resolveForRun(9, 'claude', 'opus', daily).reason, 'daily_reset')
})

test('racing updates: counters are increments on the latest state and never go backwards', async (t) => {
  const path = join(await tempDir(t), 'sessions.json')
  const writer = countingWriter()
  const store = await open(path, { writeJson: writer.write })
  // 100 runs of the same chat interleave: each resolves, waits for its "CLI", then records.
  await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    store.resolveForRun(7, 'claude', 'opus', rules)
    for (let k = 0; k < i % 5; k++) await tick()
    store.recordResult(7, 'claude', { sessionId: 's', costUsd: 0.01, tokens: 10 })
  }))
  await store.flush()
  const bucket = store.get(7)?.provider_sessions.claude
  assert.equal(bucket?.message_count, 100)
  assert.equal(bucket?.total_tokens, 1000)
  assert.ok(Math.abs((bucket?.total_cost_usd ?? 0) - 1) < 1e-9)
  const onDisk = JSON.parse(await readFile(path, 'utf8'))
  assert.equal(onDisk['7'].provider_sessions.claude.message_count, 100)
  assert.ok(writer.writes <= 10, `a burst is coalesced: ${writer.writes} writes for 200 changes`)
  store.recordResult(7, 'claude', { costUsd: -5, tokens: -100 })
  assert.equal(store.get(7)?.provider_sessions.claude?.total_tokens, 1000, 'a negative amount does not subtract')
})

test('a failed write is reported by flush and retried with the next change', async (t) => {
  const path = join(await tempDir(t), 'sessions.json')
  let fail = true
  const store = await open(path, { writeJson: async (p, v) => { if (fail) throw new Error('ENOSPC'); await writeJsonAtomic(p, v) } })
  store.setModel(1, 'claude', 'opus')
  await assert.rejects(store.flush(), /ENOSPC/)
  fail = false
  store.setModel(1, 'claude', 'sonnet')
  await store.flush()
  assert.equal(JSON.parse(await readFile(path, 'utf8'))['1'].model, 'sonnet')
})

test('delete removes a chat or one provider bucket', async (t) => {
  const store = await open(join(await tempDir(t), 'sessions.json'))
  store.recordResult(1, 'claude', { sessionId: 'c' })
  store.recordResult(1, 'codex', { sessionId: 'x' })
  assert.equal(store.delete(1, 'codex'), true)
  assert.equal(store.delete(1, 'codex'), false)
  assert.deepEqual(Object.keys(store.get(1)?.provider_sessions ?? {}), ['claude'])
  assert.equal(store.delete(1), true)
  assert.equal(store.get(1), undefined)
  assert.equal(store.delete(1), false)
  assert.deepEqual(store.list(), [])
})

test('a corrupt sessions.json is moved aside and the store starts empty', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'sessions.json')
  await writeFile(path, '{"1": {"provider": ')
  const store = await open(path)
  assert.deepEqual(store.list(), [])
  assert.ok((await readdir(dir)).some((n) => n.startsWith('sessions.json.corrupt-')))
})

test('returned entries are copies: changing them does not change the store', async (t) => {
  const store = await open(join(await tempDir(t), 'sessions.json'))
  const entry = store.recordResult(1, 'claude', { sessionId: 'c' })
  entry.provider_sessions.claude!.message_count = 99
  assert.equal(store.get(1)?.provider_sessions.claude?.message_count, 1)
})

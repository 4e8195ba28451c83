import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, fakeClis, tempDir, testConfig, waitFor } from '../helper.ts'
import { nullSink, type DeliveryEvent } from '../../src/core/sink.ts'

const NOON = Date.parse('2026-06-15T12:00:00Z')
const MIN = 60_000

async function setup (t: TestContext, heartbeat: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const bin = await fakeClis(t)
  const dir = await tempDir(t)
  const record = join(dir, 'record.json')
  let now = NOON
  const clock = { now: () => now }
  const config = testConfig({
    user_timezone: 'UTC',
    allowed_user_ids: [42, 77],
    heartbeat: { enabled: true, interval_minutes: 30, cooldown_minutes: 5, prompt: '[[reply:HEARTBEAT_OK]] check in', ...heartbeat },
    ...extra
  })
  const built = await build(t, { config, clock, env: { ...bin.env, FAKE_CLI_RECORD: record }, parts: ['automation'] })
  const delivered: Array<{ chatId: string, event: DeliveryEvent }> = []
  built.app.orchestrator.setDefaultSink((chatId) => ({ emit: (event) => { if (event.type === 'delivery') delivered.push({ chatId, event }) } }))
  const say = async (text: string, chatId = '42') => await built.app.orchestrator.handleMessage({ chatId, text, origin: 'test', sink: nullSink })
  const lastArgv = async (): Promise<string[]> => JSON.parse(await readFile(record, 'utf8')).argv
  /** Moves the mock clock on and lets the loop run one tick (and what it started). */
  const after = async (ms: number) => {
    now += ms
    const report = await built.app.automation.scheduler.tick()
    await built.app.automation.scheduler.idle()
    return report
  }
  const heartbeats = () => built.app.stores.runs.list({ kind: 'heartbeat' })
  const setHeartbeat = (over: Record<string, unknown>) => {
    const c = built.app.settings.config()
    built.app.settings.applyConfig({ ...c, heartbeat: { ...c.heartbeat, ...over } })
  }
  return { ...built, delivered, say, lastArgv, after, heartbeats, setHeartbeat, setNow: (t: number) => { now = t } }
}

test('an ack reply is dropped silently; anything else is delivered; both run inside the live session', async (t) => {
  const s = await setup(t)
  const first = await s.say('hello')
  assert.equal(first.kind, 'run')
  const sessionId = s.app.stores.sessions.get('42')?.provider_sessions['claude']?.session_id
  assert.ok(sessionId)

  assert.equal((await s.after(29 * MIN)).heartbeat, false, 'not before interval_minutes')
  assert.equal((await s.after(1 * MIN)).heartbeat, true)
  const [ack] = s.heartbeats()
  assert.equal(ack?.status, 'success')
  assert.equal(ack?.chat_id, '42')
  const argv = await s.lastArgv()
  assert.equal(argv[argv.indexOf('--resume') + 1], sessionId, 'inside the chat\'s session')
  assert.equal(s.delivered.length, 0, 'the ack token is not shown')
  assert.equal(s.app.stores.sessions.get('42')?.provider_sessions['claude']?.message_count, 1, 'and does not count as a message')

  s.setHeartbeat({ prompt: '[[reply:Your dentist appointment is at 15:00.]] check in' })
  await s.after(30 * MIN)
  assert.deepEqual(s.delivered.map((d) => [d.chatId, d.event.source, d.event.text]), [['42', 'heartbeat', 'Your dentist appointment is at 15:00.']])
  assert.equal(s.app.stores.sessions.get('42')?.provider_sessions['claude']?.message_count, 2)
  assert.equal(s.app.stores.sessions.get('77'), undefined, 'a user without a session gets no session from the heartbeat')
  assert.equal(s.heartbeats().length, 2, 'only the chat with a session ran')
})

test('no heartbeat while the user was active within cooldown_minutes, or in quiet hours', async (t) => {
  const s = await setup(t, { cooldown_minutes: 45, prompt: '[[reply:ping]] hb' })
  s.setNow(NOON + 5 * MIN)
  await s.say('hello')
  assert.equal((await s.after(25 * MIN)).heartbeat, true, 'the round starts')
  assert.equal(s.heartbeats().length, 0, 'but the chat was active 25 min ago')
  assert.equal(s.delivered.length, 0)

  await s.after(30 * MIN)
  assert.equal(s.heartbeats().length, 1, 'past the cooldown it runs')

  s.setNow(Date.parse('2026-06-15T21:30:00Z'))
  await s.after(0)
  await s.after(30 * MIN)
  assert.equal(s.heartbeats().length, 1, 'nothing during quiet hours (21→8)')
})

test('no heartbeat while the chat is busy; the user\'s run is not disturbed', async (t) => {
  // A long cli_timeout: the run below is not yet stale after the 31 minutes the clock jumps (a stale
  // run is stopped before a heartbeat round, which frees the chat).
  const s = await setup(t, { cooldown_minutes: 0, prompt: '[[reply:ping]] hb' }, { cli_timeout: 7200 })
  await s.say('hello')
  const running = s.say('[[hang]] think')
  await waitFor(() => s.app.orchestrator.isBusy('42') && s.app.runner.registry.list().length === 1 ? true : undefined, 10_000, 'the message to run')
  assert.equal((await s.after(31 * MIN)).heartbeat, true)
  assert.equal(s.heartbeats().length, 0, 'skipped: the chat is busy')
  s.app.orchestrator.abort('42')
  const outcome = await running
  assert.equal(outcome.kind, 'run')
  await s.after(30 * MIN)
  assert.equal(s.heartbeats().length, 1, 'the next round runs once the chat is free')
})

test('a stale session is not revived and no new one is made', async (t) => {
  const s = await setup(t, { cooldown_minutes: 0 }, { idle_timeout_minutes: 20 })
  await s.say('hello')
  const before = s.app.stores.sessions.get('42')
  await s.after(31 * MIN)
  assert.equal(s.heartbeats().length, 0)
  assert.deepEqual(s.app.stores.sessions.get('42'), before, 'the session entry is untouched')
})

test('a failed heartbeat run is logged, not delivered, and the loop goes on', async (t) => {
  const s = await setup(t, { cooldown_minutes: 0, prompt: '[[exit:2]] hb' })
  await s.say('hello')
  await s.after(31 * MIN)
  assert.equal(s.heartbeats()[0]?.status, 'error:exit_2')
  assert.equal(s.delivered.length, 0)
  assert.ok(s.logs.some((l) => l.includes('heartbeat run failed')))
  s.setHeartbeat({ prompt: '[[reply:back]] hb' })
  await s.after(30 * MIN)
  assert.deepEqual(s.delivered.map((d) => d.event.text), ['back'])
})

test('a user message that arrives during a heartbeat waits in the lane behind it', async (t) => {
  const s = await setup(t, { cooldown_minutes: 0, prompt: '[[delay:40]] [[reply:HEARTBEAT_OK]] hb' })
  await s.say('hello')
  s.setNow(NOON + 31 * MIN)
  assert.equal((await s.app.automation.scheduler.tick()).heartbeat, true)
  await waitFor(() => s.app.runner.registry.list().length === 1 ? true : undefined, 10_000, 'the heartbeat to run')
  const events: string[] = []
  const reply = s.app.orchestrator.handleMessage({ chatId: '42', text: '[[reply:hi]] are you there?', origin: 'test', sink: { emit: (e) => { events.push(e.type) } } })
  assert.deepEqual(events, ['queued'], 'queued behind the heartbeat, not run alongside it')
  await s.app.automation.scheduler.idle()
  const outcome = await reply
  assert.equal(outcome.kind === 'run' && outcome.summary.reply, 'hi')
  assert.equal(s.heartbeats()[0]?.status, 'success')
})

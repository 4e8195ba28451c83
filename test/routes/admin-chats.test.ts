import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { build, fakeClis, testConfig, tempDir, ADMIN_TOKEN, waitFor } from '../helper.ts'
import { isProcessAlive } from '../../src/providers/process-group.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

async function setup (t: import('node:test').TestContext, env: NodeJS.ProcessEnv = {}, config = testConfig()) {
  const bin = await fakeClis(t)
  const dir = await tempDir(t)
  const record = join(dir, 'record.json')
  const built = await build(t, { config, env: { ...bin.env, FAKE_CLI_RECORD: record, ...env } })
  const lastRun = async (): Promise<{ argv: string[], cwd: string, env: Record<string, string>, pid: number }> => JSON.parse(await readFile(record, 'utf8'))
  const send = async (text: string, chatId = '42', extra: Record<string, unknown> = {}) => await built.app.inject({
    method: 'POST', url: `/api/chats/${chatId}/messages`, headers: auth, payload: { text, ...extra }
  })
  return { ...built, send, lastRun, dir }
}

test('a message returns the CLI reply with a session id, and the next message resumes that session', async (t) => {
  const { send, lastRun, paths, app } = await setup(t, { FAKE_CLI_REPLY: 'Hello from the fake Claude.' })
  const first = await send('hello')
  assert.equal(first.statusCode, 200)
  const body = first.json()
  assert.equal(body.status, 'success')
  assert.equal(body.reply, 'Hello from the fake Claude.')
  assert.equal(body.provider, 'claude')
  assert.equal(body.model, 'opus')
  assert.match(body.session_id, /^[0-9a-f-]{36}$/)
  assert.match(body.run_id, /\S/)
  const run1 = await lastRun()
  assert.equal(run1.cwd, paths.workspace)
  assert.ok(!run1.argv.includes('--resume'), 'the first message starts a session')
  assert.ok(run1.argv.includes('--append-system-prompt'), 'a new session gets the memory')
  assert.match(run1.argv[run1.argv.indexOf('--append-system-prompt') + 1] ?? '', /Main memory/)
  assert.equal(run1.argv.at(-2), '--')
  assert.equal(run1.argv.at(-1), 'hello')
  assert.equal(run1.env['DUCTOR_CHAT_ID'], '42')
  assert.equal(run1.env['DUCTOR_HOME'], paths.home)
  assert.equal(run1.env['DUCTOR_API_TOKEN'], ADMIN_TOKEN, 'the agent can call the admin API')
  const firstPathDir = (run1.env['PATH'] ?? '').split(':')[0] ?? ''
  const version = spawnSync(join(firstPathDir, 'ductor'), ['--version'], { env: run1.env, encoding: 'utf8' })
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/, '`ductor` is on the agent\'s PATH')

  const second = await send('and again')
  assert.equal(second.json().session_id, body.session_id)
  const run2 = await lastRun()
  assert.equal(run2.argv[run2.argv.indexOf('--resume') + 1], body.session_id)
  assert.ok(!run2.argv.includes('--append-system-prompt'), 'memory only on a new session')

  await app.stores.sessions.flush()
  const sessions = JSON.parse(await readFile(paths.sessions, 'utf8'))
  assert.equal(sessions['42'].provider_sessions.claude.session_id, body.session_id)
  assert.equal(sessions['42'].provider_sessions.claude.message_count, 2)
})

test('the admin API refuses a missing or wrong token (401) and proxied requests (403)', async (t) => {
  const { app } = await setup(t)
  const url = '/api/chats/42/messages'
  const none = await app.inject({ method: 'POST', url, payload: { text: 'hi' } })
  assert.equal(none.statusCode, 401)
  assert.equal(none.json().error, 'unauthorized')
  const wrong = await app.inject({ method: 'POST', url, headers: { authorization: 'Bearer nope' }, payload: { text: 'hi' } })
  assert.equal(wrong.statusCode, 401)
  const proxied = await app.inject({ method: 'POST', url, headers: { ...auth, 'x-forwarded-for': '203.0.113.9' }, payload: { text: 'hi' } })
  assert.equal(proxied.statusCode, 403)
  assert.equal(proxied.json().error, 'forbidden')
})

test('bad input gets a 400 naming the field', async (t) => {
  const { app, send } = await setup(t)
  const empty = await send('')
  assert.equal(empty.statusCode, 400)
  assert.match(empty.json().message, /text/)
  const model = await send('hi', '42', { model: 'gpt-2-turbo-deluxe-xl' })
  assert.equal(model.statusCode, 200, 'gpt-… ids are Codex models')
  const unknown = await send('hi', '42', { model: 'llama' })
  assert.equal(unknown.statusCode, 400)
  assert.match(unknown.json().message, /unknown model "llama"/)
  const badChat = await app.inject({ method: 'POST', url: '/api/chats/..%2Fetc/messages', headers: auth, payload: { text: 'x' } })
  assert.equal(badChat.statusCode, 400)
})

test('the SSE variant streams text events, then the result, and ends', async (t) => {
  const { app } = await setup(t, { FAKE_CLI_DELAY_MS: '5' })
  const url = await app.listenAdmin({ host: '127.0.0.1', port: 0 })
  const res = await fetch(`${url}/api/chats/7/messages`, {
    method: 'POST',
    headers: { ...auth, accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ text: '[[transcript:claude-partial.jsonl]] hi' })
  })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
  const events = (await res.text()).trim().split('\n\n').map((block) => {
    const [eventLine = '', dataLine = ''] = block.split('\n')
    return { event: eventLine.replace('event: ', ''), data: JSON.parse(dataLine.replace('data: ', '')) }
  })
  const names = events.map((e) => e.event)
  assert.ok(names.includes('text'), 'text deltas are streamed')
  assert.ok(names.indexOf('text') < names.indexOf('result'))
  assert.equal(names.at(-1), 'result', 'ends after result')
  const streamed = events.filter((e) => e.event === 'text').map((e) => e.data.text).join('')
  const result = events.at(-1)?.data
  assert.equal(result.status, 'success')
  assert.equal(streamed, result.reply, 'the deltas add up to the reply')
})

test('stop during a run ends it within 2 s and leaves no process of that run alive', async (t) => {
  const { app, send, lastRun, dir } = await setup(t)
  const running = send('[[hang]] [[grandchild]] think forever', '42')
  const rec = await waitFor(async () => await lastRun().catch(() => undefined), 10_000, 'the CLI to start') as unknown as { pid: number, grandchildPid: number }
  const stoppedAt = Date.now()
  const stop = await app.inject({ method: 'POST', url: '/api/chats/42/stop', headers: auth })
  assert.deepEqual(stop.json(), { stopped: true, discarded: 0 })
  const res = await running
  assert.ok(Date.now() - stoppedAt < 2000, 'ended within 2 s')
  assert.equal(res.json().status, 'error:aborted')
  assert.equal(isProcessAlive(rec.pid), false, 'the CLI is gone')
  assert.equal(isProcessAlive(rec.grandchildPid), false, 'its child is gone too')
  assert.ok(dir)
})

test('DELETE /api/runs/:id stops a run that is still waiting for a free slot: its CLI never gets to answer', async (t) => {
  const { app, send } = await setup(t, {}, testConfig({ limits: { max_concurrent_runs: 1 } }))
  const busy = send('[[hang]] hold the only slot', '1')
  await waitFor(() => app.runner.registry.list().length === 1 ? true : undefined, 10_000, 'the first CLI to start')
  const waiting = send('[[reply:should never be said]]', '2')
  const run = await waitFor(() => app.stores.runs.active().find((r) => r.chat_id === '2'), 10_000, 'the second run to be recorded')
  const del = await app.inject({ method: 'DELETE', url: `/api/runs/${run.id}`, headers: auth })
  assert.equal(del.statusCode, 200, del.body)
  assert.equal(del.json().aborted, true)
  await app.inject({ method: 'POST', url: '/api/chats/1/stop', headers: auth })
  assert.equal((await busy).json().status, 'error:aborted')
  const res = (await waiting).json()
  assert.equal(res.status, 'error:aborted')
  assert.notEqual(res.reply, 'should never be said')
  assert.equal(app.runner.registry.list().length, 0)
})

test('a missing CLI gives a clear message with the install command, not a crash', async (t) => {
  const config = testConfig({ cli_paths: { claude: '/nonexistent/bin/claude' } })
  const { send } = await setup(t, {}, config)
  const res = await send('hello')
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().status, 'error:cli_not_found_claude')
  assert.match(res.json().reply, /npm install -g @anthropic-ai\/claude-code/)
})

test('a failed run keeps the session; the next message resumes it', async (t) => {
  const { send, lastRun } = await setup(t)
  const ok = (await send('hello')).json()
  const failed = (await send('[[crash:2]] this one crashes')).json()
  assert.match(failed.status, /^error:/)
  assert.match(failed.reply, /\/new/)
  await send('after the crash')
  const run = await lastRun()
  assert.equal(run.argv[run.argv.indexOf('--resume') + 1], ok.session_id)
})

test('a run killed by SIGKILL resets that session and is retried once with a fresh one', async (t) => {
  const dir = await tempDir(t)
  const killedOnce = join(dir, 'killed-once')
  await writeFile(killedOnce, 'not yet')
  const { send, lastRun } = await setup(t, { FAKE_CLI_SIGKILL_ONCE: killedOnce })
  const before = (await send('hello')).json()
  await rm(killedOnce)
  const res = (await send('this run gets killed once')).json()
  assert.equal(res.status, 'success', 'the retry succeeds')
  assert.ok(!(await lastRun()).argv.includes('--resume'), 'the retry starts a fresh session')
  assert.notEqual(res.session_id, before.session_id)
  const next = (await send('again')).json()
  assert.equal(next.session_id, res.session_id, 'the fresh session is kept afterwards')

  // Killed again, and this time the retry fails too: the chat is not told its session is kept (it was reset).
  await rm(killedOnce)
  const failed = (await send('[[crash:2]] killed, then the retry crashes')).json()
  assert.match(failed.status, /^error:/)
  assert.doesNotMatch(failed.reply, /session is kept/)
  assert.match(failed.reply, /Your earlier session was reset when the agent was killed/)
})

test('messages to one chat run one at a time in order; /new resets only the active provider', async (t) => {
  const { send, lastRun } = await setup(t)
  const a = send('[[delay:50]] [[reply:first]] one')
  const b = send('[[reply:second]] two')
  const [ra, rb] = await Promise.all([a, b])
  assert.equal(ra.json().reply, 'first')
  assert.equal(rb.json().reply, 'second')
  assert.equal(rb.json().session_id, ra.json().session_id, 'the queued message resumed the same session')

  const reset = (await send('/new')).json()
  assert.equal(reset.status, 'success')
  assert.match(reset.reply, /Fresh Claude Code session/)
  await send('after new')
  assert.ok(!(await lastRun()).argv.includes('--resume'))
})

test('@model runs one message with another model without changing the default', async (t) => {
  const { send, lastRun } = await setup(t)
  const once = (await send('@sonnet explain this')).json()
  assert.equal(once.model, 'sonnet')
  const run = await lastRun()
  assert.equal(run.argv[run.argv.indexOf('--model') + 1], 'sonnet')
  assert.equal(run.argv.at(-1), 'explain this')
  const next = (await send('plain')).json()
  assert.equal(next.model, 'opus')
  const only = (await send('@haiku')).json()
  assert.equal(only.status, 'error:bad_request')
  assert.match(only.reply, /write the message after it/)
})

test('a chat id made of digits that Telegram cannot have is refused with the reason, and nothing runs (it used to be answered in a rounded chat)', async (t) => {
  const { send, dir } = await setup(t, { FAKE_CLI_REPLY: 'should not run' })
  for (const chatId of ['99999999999999999999', '0042']) {
    const res = await send('hello', chatId)
    assert.equal(res.statusCode, 400, chatId)
    assert.equal(res.json().error, 'bad_request')
    assert.equal(res.json().message, `chat id "${chatId}" is not a Telegram chat id (they are whole numbers of at most 16 digits, without a leading zero); a chat outside Telegram needs a name with a letter or _ in it`)
  }
  await assert.rejects(readFile(join(dir, 'record.json')), /ENOENT/, 'no CLI ran')
  assert.equal((await send('hello', '-1001234567890')).statusCode, 200, 'a supergroup id')
})

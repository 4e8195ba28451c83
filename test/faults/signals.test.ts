// Signals (issue 14): the real `ductor serve` (with its supervisor, as a user starts it) with a chat
// API run streaming from a slow fake CLI. SIGTERM to the whole process group (`kill -- -PGID`), a
// Ctrl-C-style SIGINT to the whole group, and a closed terminal (SIGHUP under a pseudo-terminal) each
// end in one graceful stop: exit 0, the open chat request answered 503 naming the shutdown, and no
// process of the home left (the CLIs included).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ADMIN_TOKEN, fakeClis, tempDir, testConfig, waitFor, spawnService, serviceUp } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'
import { survivors } from './fault-helpers.ts'
import { recordedRuns } from './serve-helpers.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }

async function setUp (t: TestContext): Promise<{ home: string, env: NodeJS.ProcessEnv }> {
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  await writeJsonAtomic(homePaths(home).config, testConfig({ server: { host: '127.0.0.1', port: 0 }, cli_paths: { claude: bin.claude, codex: bin.codex }, allowed_user_ids: [7], limits: { max_concurrent_runs: 4 } }))
  await mkdir(join(home, 'records'))
  return { home, env: { DUCTOR_HOME: home, HOME: home, FAKE_CLI_RECORD_DIR: join(home, 'records'), FAKE_CLI_DELAY_MS: '1000' } }
}

/** Starts a chat API request whose run streams for a while; resolves once its CLI runs. */
async function chatInFlight (url: string, home: string, sse: boolean, chat = sse ? '8' : '7'): Promise<{ answer: Promise<{ status: number, body: string }> }> {
  const answer = fetch(`${url}/api/chats/${chat}/messages`, {
    method: 'POST',
    headers: { ...auth, ...(sse ? { accept: 'text/event-stream' } : {}) },
    body: JSON.stringify({ text: `tell me a long story, chat ${chat}` })
  }).then(async (res) => ({ status: res.status, body: await res.text() }), (err: Error) => ({ status: 0, body: err.message }))
  const prompt = `tell me a long story, chat ${chat}`
  await waitFor(async () => (await recordedRuns(join(home, 'records'))).some((r) => r.prompt.includes(prompt)) ? true : undefined, 20_000, 'the CLI to run')
  // Wrapped: an async function returning a promise would wait for it (the whole reply).
  return { answer }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} to the whole process group (supervisor and service): one graceful stop, exit 0, open requests answered, nothing left`, { timeout: 90_000 }, async (t) => {
    const { home, env } = await setUp(t)
    const served = await spawnService(t, env, { supervisor: true })
    const info = await serviceUp(home)
    const json = await chatInFlight(info.admin_url ?? '', home, false)
    const sse = await chatInFlight(info.admin_url ?? '', home, true)
    process.kill(-(served.child.pid as number), signal)
    const code = await served.exited
    assert.equal(code, 0, served.output().slice(-3000))
    assert.doesNotMatch(served.output(), /second (SIGINT|SIGTERM)|killed by timeout/)
    const plain = await json.answer
    assert.equal(plain.status, 503, `${plain.body}\n${served.output().slice(-6000)}`)
    assert.match(JSON.parse(plain.body).message as string, /shutting down/)
    const streamed = await sse.answer
    assert.equal(streamed.status, 200)
    assert.match(streamed.body, /event: error\ndata: \{"error":"unavailable","message":"ductor is shutting down/, streamed.body)
    assert.deepEqual(survivors(home), [], 'no process of the home is left')
  })
}

/**
 * `ductor serve` in a pseudo-terminal (spawnService's `terminal`: the session leader of a new
 * terminal, in its foreground process group) with a chat run in flight; then the terminal types
 * Ctrl-C (the terminal driver sends SIGINT to the whole foreground group: supervisor and service) or
 * is closed (a closed terminal window: SIGHUP). Returns how it ended, the chat request's answer and
 * the home (to look for survivors).
 */
async function underPty (t: TestContext, how: 'ctrl-c' | 'hangup'): Promise<{ result: { exited: boolean, code: number | null, tty: string }, out: string, answer: { status: number }, home: string }> {
  const { home, env } = await setUp(t)
  const served = await spawnService(t, env, { supervisor: true, terminal: true })
  const info = await served.up()
  const json = await chatInFlight(info.admin_url ?? '', home, false)
  if (how === 'hangup') served.hangup()
  else served.type('\x03')
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([served.exited, new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), 40_000) })])
  clearTimeout(timer)
  const out = served.output()
  return { result: { exited: code !== null, code, tty: out.slice(-3000) }, out, answer: await json.answer, home }
}

test('Ctrl-C typed in the terminal (SIGINT from a pseudo-terminal to its foreground group): one graceful stop, exit 0, nothing left', { timeout: 90_000 }, async (t) => {
  const { result, out, answer, home } = await underPty(t, 'ctrl-c')
  assert.equal(result.exited, true, `ductor serve did not exit after Ctrl-C: ${out.slice(-3000)}`)
  assert.equal(result.code, 0, JSON.stringify(result))
  assert.doesNotMatch(result.tty, /second SIGINT|killed by timeout/)
  assert.equal(answer.status, 503)
  await waitFor(() => survivors(home).length === 0 ? true : undefined, 5000, 'every process of the home to end').catch(() => {})
  assert.deepEqual(survivors(home), [], 'no process of the home is left')
})

test('SIGHUP from a closed terminal: the service stops gracefully and exits 0; nothing spins, nothing is left', { timeout: 90_000 }, async (t) => {
  const { result, out, answer, home } = await underPty(t, 'hangup')
  assert.equal(result.exited, true, `ductor serve did not exit after SIGHUP: ${out.slice(-3000)}`)
  assert.equal(result.code, 0, JSON.stringify(result))
  assert.equal(answer.status, 503)
  await waitFor(() => survivors(home).length === 0 ? true : undefined, 5000, 'every process of the home to end').catch(() => {})
  assert.deepEqual(survivors(home), [], 'no process of the home is left (none spinning)')
})

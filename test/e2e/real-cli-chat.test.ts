import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build, testConfig, ADMIN_TOKEN } from '../helper.ts'
import { groupHasLiveMembers } from '../../src/providers/process-group.ts'
import { prepareClaudeEnv, prepareCodexEnv, CLAUDE_BIN, CODEX_BIN } from '../e2e-support/real-cli-env.ts'
import type { ModelCall } from '../fakes/model-api/script.ts'

// The ground truth: the real `claude` and `codex` binaries (devDependencies) run by the service,
// talking to a fake model API on 127.0.0.1, driven through the admin chat endpoint.

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const replyFor = (call: ModelCall): string => call.prompt.includes('PINEAPPLE')
  ? 'I will remember PINEAPPLE.'
  : `You asked me to remember ${/PINEAPPLE/.test(call.transcript) ? 'PINEAPPLE' : 'nothing'}.`

async function sse (url: string, text: string): Promise<Array<{ event: string, data: Record<string, unknown> }>> {
  const res = await fetch(url, { method: 'POST', headers: { ...auth, accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify({ text }) })
  assert.equal(res.status, 200)
  return (await res.text()).trim().split('\n\n').map((block) => {
    const [e = '', d = ''] = block.split('\n')
    return { event: e.slice('event: '.length), data: JSON.parse(d.slice('data: '.length)) }
  })
}

test('real claude: a chat message gets the model reply and a session; the next message resumes it; SSE streams text then result', { timeout: 60_000 }, async (t) => {
  const cli = await prepareClaudeEnv({ reply: replyFor })
  t.after(cli.cleanup)
  const { app } = await build(t, { config: testConfig({ model: 'sonnet', cli_paths: { claude: CLAUDE_BIN } }), exactEnv: cli.env })

  const first = await app.inject({ method: 'POST', url: '/api/chats/42/messages', headers: auth, payload: { text: 'remember the word PINEAPPLE' } })
  const one = first.json()
  assert.equal(one.status, 'success', JSON.stringify(one))
  assert.equal(one.reply, 'I will remember PINEAPPLE.')
  assert.match(one.session_id, /^[0-9a-f-]{36}$/)
  assert.ok(one.tokens > 0)
  assert.ok(one.cost_usd > 0, 'Claude reports its cost')

  const second = (await app.inject({ method: 'POST', url: '/api/chats/42/messages', headers: auth, payload: { text: 'which word?' } })).json()
  assert.equal(second.status, 'success')
  assert.equal(second.session_id, one.session_id, 'the same session continues')
  assert.equal(second.reply, 'You asked me to remember PINEAPPLE.', 'the model API saw the earlier turn')
  const lastCall = cli.api.calls.at(-1)
  assert.ok(lastCall?.turns.some((turn) => turn.role === 'assistant' && turn.text.includes('I will remember PINEAPPLE')))

  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = await app.listenAdmin({ host: '127.0.0.1', port: 0 })
  const events = await sse(`${url}/api/chats/42/messages`, 'and once more, streamed')
  const names = events.map((e) => e.event)
  assert.ok(names.includes('text'))
  assert.equal(names.at(-1), 'result')
  assert.ok(names.lastIndexOf('text') < names.indexOf('result'))
  const result = events.at(-1)?.data
  assert.equal(result?.['status'], 'success')
  assert.equal(events.filter((e) => e.event === 'text').map((e) => e.data['text']).join(''), result?.['reply'])
})

test('real codex: a chat message gets the model reply and a thread; the next message resumes it', { timeout: 60_000 }, async (t) => {
  const cli = await prepareCodexEnv({ reply: replyFor })
  t.after(cli.cleanup)
  const config = testConfig({ provider: 'codex', model: 'gpt-5.5', permission_mode: 'default', cli_paths: { codex: CODEX_BIN } })
  const { app } = await build(t, { config, exactEnv: cli.env })

  const one = (await app.inject({ method: 'POST', url: '/api/chats/9/messages', headers: auth, payload: { text: 'remember the word PINEAPPLE' } })).json()
  assert.equal(one.status, 'success', JSON.stringify(one))
  assert.equal(one.provider, 'codex')
  assert.equal(one.reply, 'I will remember PINEAPPLE.')
  assert.match(one.session_id, /^[0-9a-f-]{36}$/)
  assert.equal(one.cost_usd, null, 'Codex reports no cost')

  const two = (await app.inject({ method: 'POST', url: '/api/chats/9/messages', headers: auth, payload: { text: 'which word?' } })).json()
  assert.equal(two.status, 'success', JSON.stringify(two))
  assert.equal(two.session_id, one.session_id)
  assert.equal(two.reply, 'You asked me to remember PINEAPPLE.')
})

test('real claude: stop during a slow reply ends the run within 2 s and leaves no process behind', { timeout: 60_000 }, async (t) => {
  const cli = await prepareClaudeEnv({ reply: { kind: 'text', text: 'one two three four five six seven eight nine ten', chunks: 40, delayMs: 250 } })
  t.after(cli.cleanup)
  const { app } = await build(t, { config: testConfig({ model: 'sonnet', cli_paths: { claude: CLAUDE_BIN } }), exactEnv: cli.env })
  const running = app.inject({ method: 'POST', url: '/api/chats/5/messages', headers: auth, payload: { text: 'count slowly' } })
  const deadline = Date.now() + 20_000
  while (cli.api.calls.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const [proc] = app.runner.registry.list()
  assert.ok(proc !== undefined, 'the CLI runs')
  const stoppedAt = Date.now()
  const stop = await app.inject({ method: 'POST', url: '/api/chats/5/stop', headers: auth })
  assert.equal(stop.json().stopped, true)
  const res = (await running).json()
  assert.ok(Date.now() - stoppedAt < 2000, `ended in ${Date.now() - stoppedAt} ms`)
  assert.equal(res.status, 'error:aborted')
  assert.deepEqual(app.runner.registry.list(), [])
  // Nothing of its group is alive (an exited grandchild may still wait for init to reap it: not alive).
  assert.equal(groupHasLiveMembers(proc.pid), false, 'no process of its group is left')
})

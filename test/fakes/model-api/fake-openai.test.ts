// The fake OpenAI Responses API on its own (no CLI): what it streams, records and refuses.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startFakeOpenAI } from './fake-openai.ts'
import { readSse } from './sse-reader.ts'

const message = (role: string, text: string) => ({ type: 'message', role, content: [{ type: 'input_text', text }] })

async function post (baseUrl: string, body: unknown): Promise<Response> {
  return await fetch(`${baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

test('a text reply is the Responses SSE sequence ending in response.completed with usage', async (t) => {
  const api = await startFakeOpenAI({ reply: { kind: 'text', text: 'abcd', chunks: 2 } })
  t.after(api.close)
  assert.equal(api.baseUrl, `${api.url}/v1`)

  const events = await readSse(await post(api.baseUrl, { model: 'gpt-5.5', stream: true, input: [message('developer', 'rules'), message('user', '<environment_context>'), message('user', 'hello')] }))
  assert.deepEqual(events.map((e) => e.event), [
    'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done',
    'response.output_item.done', 'response.completed'
  ])
  assert.ok(events.every((e) => e.data['type'] === e.event))
  assert.deepEqual(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data['delta']), ['ab', 'cd'])
  assert.deepEqual(events.find((e) => e.event === 'response.output_item.done')?.data['item'], {
    id: 'msg_fake_0001', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'abcd', annotations: [] }]
  })
  const completed = events.at(-1)?.data['response'] as { status: string, usage: Record<string, unknown> }
  assert.equal(completed.status, 'completed')
  assert.deepEqual(Object.keys(completed.usage), ['input_tokens', 'input_tokens_details', 'output_tokens', 'output_tokens_details', 'total_tokens'])
  assert.equal(api.calls[0]?.prompt, 'hello')
})

test('a tool reply is an exec_command function_call; the request with its output gets the final text', async (t) => {
  const api = await startFakeOpenAI()
  t.after(api.close)

  const events = await readSse(await post(api.baseUrl, { stream: true, input: [message('user', '[[tool]] go')] }))
  const item = events.find((e) => e.event === 'response.output_item.done')?.data['item']
  assert.deepEqual(item, { id: 'fc_fake_0001', type: 'function_call', status: 'completed', name: 'exec_command', arguments: '{"cmd":"echo hi"}', call_id: 'call_fake_0001' })
  assert.deepEqual(events.filter((e) => e.event.startsWith('response.function_call_arguments')).map((e) => e.event), [
    'response.function_call_arguments.delta', 'response.function_call_arguments.delta', 'response.function_call_arguments.done'
  ])

  const next = await readSse(await post(api.baseUrl, {
    stream: true,
    input: [message('user', '[[tool]] go'), item, { type: 'function_call_output', call_id: 'call_fake_0001', output: 'Output:\nhi\n' }]
  }))
  assert.equal(next.find((e) => e.event === 'response.output_text.done')?.data['text'], 'The command printed: Output:\nhi\n')
  assert.equal(api.calls[1]?.prompt, '')
  assert.deepEqual(api.calls[1]?.turns.map((turn) => turn.role), ['user', 'assistant', 'tool'])
})

test('scripted errors carry the OpenAI error body, x-request-id and retry-after', async (t) => {
  const api = await startFakeOpenAI({ reply: { kind: 'error', status: 429, retryAfter: 1 } })
  t.after(api.close)

  const res = await post(api.baseUrl, { stream: true, input: [message('user', 'x')] })
  assert.equal(res.status, 429)
  assert.equal(res.headers.get('retry-after'), '1')
  assert.equal(res.headers.get('x-request-id'), 'req_fake_0001')
  assert.deepEqual(await res.json(), { error: { message: 'fake rate limit', type: 'rate_limit_exceeded', param: null, code: null } })
})

test('a WebSocket upgrade is refused with 404 and recorded', async (t) => {
  const api = await startFakeOpenAI()
  t.after(api.close)

  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(`${api.baseUrl}/responses`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } })
    req.on('response', (res) => { res.resume(); resolve(res.statusCode) })
    req.on('upgrade', () => reject(new Error('upgraded')))
    req.on('error', reject)
    req.end()
  })
  assert.equal(status, 404)
  assert.deepEqual(api.requests.map((r) => ({ method: r.method, path: r.path, upgrade: r.upgrade })), [{ method: 'GET', path: '/v1/responses', upgrade: true }])
  assert.equal(api.calls.length, 0)
})

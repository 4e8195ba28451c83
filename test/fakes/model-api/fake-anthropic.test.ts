// The fake Anthropic API on its own (no CLI): what it streams, records and refuses.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeAnthropic } from './fake-anthropic.ts'
import { readSse } from './sse-reader.ts'

const userTurn = (text: string) => ({ role: 'user', content: [{ type: 'text', text: '<system-reminder>\ncontext\n</system-reminder>' }, { type: 'text', text }] })

async function post (url: string, body: unknown): Promise<Response> {
  return await fetch(`${url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

test('a streamed text reply is the Messages SSE sequence, and the request is recorded with its prompt', async (t) => {
  const api = await startFakeAnthropic({ reply: { kind: 'text', text: 'abcdef', chunks: 3 } })
  t.after(api.close)

  assert.equal((await fetch(api.url, { method: 'HEAD' })).status, 404)
  // Claude Code sends a `role: "system"` message after the user turn; the prompt is still the user's.
  const res = await post(api.baseUrl, { model: 'claude-sonnet-5', stream: true, messages: [userTurn('hello'), { role: 'system', content: 'agents' }] })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/event-stream')
  const events = await readSse(res)
  assert.deepEqual(events.map((e) => e.event), [
    'message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta',
    'content_block_stop', 'message_delta', 'message_stop'
  ])
  assert.deepEqual(events.filter((e) => e.event === 'content_block_delta').map((e) => (e.data['delta'] as { text: string }).text), ['ab', 'cd', 'ef'])
  assert.deepEqual(events.find((e) => e.event === 'message_delta')?.data['delta'], { stop_reason: 'end_turn', stop_sequence: null })

  assert.deepEqual(api.requests.map((r) => `${r.method} ${r.path} ${r.query} ${r.status}`), ['HEAD /  404', 'POST /v1/messages ?beta=true 200'])
  assert.equal(api.calls.length, 1)
  assert.equal(api.calls[0]?.prompt, 'hello')
  assert.deepEqual(api.calls[0]?.turns.map((turn) => turn.role), ['user', 'system'])
})

test('a tool reply streams a Bash tool_use block; the request that carries its result gets the final text', async (t) => {
  const api = await startFakeAnthropic()
  t.after(api.close)

  const events = await readSse(await post(api.baseUrl, { stream: true, messages: [userTurn('[[tool]] go')] }))
  const start = events.find((e) => e.event === 'content_block_start' && (e.data['content_block'] as { type: string }).type === 'tool_use')
  assert.deepEqual(start?.data['content_block'], { type: 'tool_use', id: 'toolu_fake_0001', name: 'Bash', input: {} })
  const json = events.filter((e) => e.event === 'content_block_delta' && e.data['index'] === 1).map((e) => (e.data['delta'] as { partial_json: string }).partial_json).join('')
  assert.deepEqual(JSON.parse(json), { command: 'echo hi', description: 'Run echo hi' })
  assert.equal((events.find((e) => e.event === 'message_delta')?.data['delta'] as { stop_reason: string }).stop_reason, 'tool_use')

  const next = await readSse(await post(api.baseUrl, {
    stream: true,
    messages: [userTurn('[[tool]] go'), { role: 'assistant', content: [] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_fake_0001', content: 'hi' }] }]
  }))
  const text = next.filter((e) => e.event === 'content_block_delta').map((e) => (e.data['delta'] as { text: string }).text).join('')
  assert.equal(text, 'The command printed: hi')
  assert.equal(api.calls[1]?.toolResult, 'hi')
})

test('scripted errors carry the Anthropic error body and retry-after; enqueued replies come before the script', async (t) => {
  const api = await startFakeAnthropic({ reply: 'from the script' })
  t.after(api.close)
  api.enqueue({ kind: 'error', status: 429, retryAfter: 2 }, { kind: 'error', status: 529 })

  const limited = await post(api.baseUrl, { stream: true, messages: [userTurn('x')] })
  assert.equal(limited.status, 429)
  assert.equal(limited.headers.get('retry-after'), '2')
  assert.deepEqual(await limited.json(), { type: 'error', error: { type: 'rate_limit_error', message: 'fake rate limit' } })
  const overloaded = await post(api.baseUrl, { stream: true, messages: [userTurn('x')] })
  assert.equal(overloaded.status, 529)
  assert.equal(((await overloaded.json()) as { error: { type: string } }).error.type, 'overloaded_error')

  const plain = await post(api.baseUrl, { stream: false, messages: [userTurn('x')] })
  const message = await plain.json() as Record<string, unknown>
  assert.deepEqual(message['content'], [{ type: 'text', text: 'from the script' }])
  assert.equal(message['stop_reason'], 'end_turn')
})

test('a script that throws answers 500 and is kept in failures', async (t) => {
  const api = await startFakeAnthropic({ reply: () => { throw new Error('script broke') } })
  t.after(api.close)

  const res = await post(api.baseUrl, { stream: true, messages: [userTurn('x')] })
  assert.equal(res.status, 500)
  assert.deepEqual(api.failures.map((e) => e.message), ['script broke'])
})

test('a slow stream sends its deltas apart, and close() cuts it off at once', async (t) => {
  const api = await startFakeAnthropic({ reply: { kind: 'text', text: 'abcdefghij', chunks: 10, delayMs: 60 } })
  t.after(api.close)

  const started = Date.now()
  const res = await post(api.baseUrl, { stream: true, messages: [userTurn('x')] })
  const reader = res.body?.getReader()
  assert.ok(reader !== undefined)
  let seen = ''
  while (!seen.includes('text_delta')) {
    const { value, done } = await reader.read()
    assert.equal(done, false)
    seen += new TextDecoder().decode(value)
  }
  assert.ok(Date.now() - started >= 50, 'the first delta waits for its delay')
  const closing = Date.now()
  await api.close()
  assert.ok(Date.now() - closing < 500, 'close does not wait for the stream to finish')
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      seen += new TextDecoder().decode(value)
    }
  } catch { /* the connection was cut */ }
  assert.equal(seen.includes('message_stop'), false)
})

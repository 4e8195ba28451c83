import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createCodexStreamParser } from '../../src/providers/codex-stream.ts'
import { fixture, fixtureNames, ofType, parse } from './parse-helpers.ts'

const codex = createCodexStreamParser

test('text: session from thread.started, the agent message, tokens from turn.completed, no cost', () => {
  const { events, result } = parse(codex, fixture('codex-exec-text.jsonl'))
  assert.deepEqual(events.slice(0, 2), [
    { type: 'session', sessionId: '01a20f69-16a6-7aa1-824c-034276cbbcae' },
    { type: 'text', text: 'Hello from fake-openai. You said: hello' }
  ])
  assert.deepEqual(result, {
    text: 'Hello from fake-openai. You said: hello',
    sessionId: '01a20f69-16a6-7aa1-824c-034276cbbcae',
    costUsd: null,
    tokens: { input: 6922, output: 10, total: 6932 },
    durationMs: 0,
    numTurns: 1,
    isError: false,
    complete: true
  })
})

test('tool: one tool event per command (started, then completed), the bash wrapper removed', () => {
  const { events, result } = parse(codex, fixture('codex-exec-tool.jsonl'))
  assert.deepEqual(ofType(events, 'tool'), [{ type: 'tool', name: 'Shell', summary: 'echo hi' }])
  assert.equal(result.text, 'The command printed: Chunk ID: d9967c\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 1\nOutput:\nhi')
  assert.deepEqual(result.tokens, { input: 13950, output: 35, total: 13985 })
})

test('resume keeps the thread id', () => {
  const first = parse(codex, fixture('codex-exec-resume-1.jsonl')).result
  const second = parse(codex, fixture('codex-exec-resume-2.jsonl')).result
  assert.equal(first.sessionId, '01a20f69-19d9-7d40-ad12-561ff95b7608')
  assert.equal(second.sessionId, first.sessionId)
  assert.equal(second.text, 'Hello from fake-openai. You said: which word did I ask you to remember?')
  assert.deepEqual(second.tokens, { input: 13946, output: 33, total: 13979 })
})

const failures = [
  ['codex-error-401.jsonl', 'unexpected status 401 Unauthorized: Incorrect API key provided: fake, url: http://127.0.0.1:46751/v1/responses, request id: req_fake_1795554882616', 1],
  ['codex-error-429.jsonl', 'exceeded retry limit, last status: 429 Too Many Requests, request id: req_fake_1795554881956', 1],
  ['codex-error-500.jsonl', 'We’re currently experiencing high demand, which may cause temporary errors.', 1],
  ['codex-error-500-default-retries.jsonl', 'We’re currently experiencing high demand, which may cause temporary errors.', 5],
  ['codex-error-400.jsonl', '{"error":{"message":"fake bad request","type":"invalid_request_error","param":null,"code":null}}', 0]
] as const

for (const [name, message, retries] of failures) {
  test(`${name}: retries as status lines, turn.failed gives an error result`, () => {
    const { events, result } = parse(codex, fixture(name))
    const statuses = ofType(events, 'status')
    assert.equal(statuses.filter((s) => s.kind === 'retrying').length, retries)
    if (retries > 0) assert.match(statuses[0]?.status ?? '', new RegExp(`^retrying 1/${retries} \\(`))
    assert.equal(statuses.at(-1)?.kind, 'error')
    assert.equal(result.isError, true)
    assert.equal(result.complete, true)
    assert.equal(result.errorMessage, message)
    assert.equal(result.text, '')
    assert.equal(result.costUsd, null)
  })
}

test('SIGTERM: only thread.started and turn.started; end() gives the session id and an incomplete result', () => {
  const { events, result } = parse(codex, fixture('codex-sigterm.jsonl'))
  assert.deepEqual(events, [{ type: 'session', sessionId: '01a20f6a-d9ae-7ea0-aad2-5f43078a32c7' }])
  assert.equal(result.complete, false)
  assert.equal(result.isError, true)
  assert.equal(result.sessionId, '01a20f6a-d9ae-7ea0-aad2-5f43078a32c7')
  assert.equal(result.errorMessage, 'Codex stopped before its turn completed')
})

test('connection refused (never ends): reconnect lines become status lines', () => {
  const { events, result } = parse(codex, fixture('codex-conn-refused.jsonl'))
  assert.deepEqual(ofType(events, 'status').map((s) => s.status), Array(3).fill('reconnecting: waiting for network (Connection failed: error sending request)'))
  assert.equal(result.complete, false)
})

test('unknown model: the error item is a warning, the run still succeeds', () => {
  const { events, result } = parse(codex, fixture('codex-exec-unknown-model.jsonl'))
  const [warning] = ofType(events, 'status')
  assert.equal(warning?.kind, 'warning')
  assert.match(warning?.status ?? '', /^Model metadata for `my-local-model` not found/)
  assert.equal(result.isError, false)
  assert.equal(result.text, 'Hello from fake-openai. You said: hello')
  assert.deepEqual(result.tokens, { input: 5178, output: 10, total: 5188 })
})

test('empty stdout (unknown resume id, bad config): nothing seen', () => {
  for (const name of ['codex-exec-resume-unknown-id.jsonl', 'codex-exec-wire-api-chat.jsonl']) {
    const parsed = parse(codex, fixture(name))
    assert.equal(parsed.sawOutput, false, name)
    assert.equal(parsed.result.complete, false, name)
  }
})

test('several agent messages: each streamed, separated by a blank line; the result is the last one', () => {
  const lines = [
    { type: 'thread.started', thread_id: 't1' },
    { type: 'turn.started' },
    { type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: 'thinking about it' } },
    { type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: 'Let me look.' } },
    { type: 'item.completed', item: { id: 'item_2', type: 'file_change', changes: [{ path: '/w/a.ts', kind: 'update' }, { path: '/w/b.ts', kind: 'add' }], status: 'completed' } },
    { type: 'item.started', item: { id: 'item_3', type: 'mcp_tool_call', server: 'docs', tool: 'search', status: 'in_progress' } },
    { type: 'item.updated', item: { id: 'item_4', type: 'todo_list', items: [] } },
    { type: 'item.completed', item: { id: 'item_3', type: 'mcp_tool_call', server: 'docs', tool: 'search', status: 'completed' } },
    { type: 'item.completed', item: { id: 'item_5', type: 'agent_message', text: 'Done.' } },
    { type: 'turn.completed', usage: { input_tokens: 10, output_tokens: 2 } }
  ]
  const { events, result } = parse(codex, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
  assert.deepEqual(events.slice(0, -1), [
    { type: 'session', sessionId: 't1' },
    { type: 'thinking', text: 'thinking about it' },
    { type: 'text', text: 'Let me look.' },
    { type: 'tool', name: 'Edit', summary: '/w/a.ts (+1)' },
    { type: 'tool', name: 'docs.search', summary: '' },
    { type: 'text', text: '\n\nDone.' }
  ])
  assert.equal(result.text, 'Done.')
})

test('every Codex transcript gives the same events whole or in random chunks', () => {
  for (const name of fixtureNames('codex-')) {
    const data = fixture(name)
    const whole = parse(codex, data)
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }), (sizes) => {
      const chunked = parse(codex, data, sizes)
      assert.deepEqual(chunked.events, whole.events, name)
      assert.deepEqual(chunked.result, whole.result, name)
    }), { numRuns: 25 })
    assert.deepEqual(parse(codex, data, [1]).events, whole.events, `${name} byte by byte`)
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createClaudeStreamParser } from '../../src/providers/claude-stream.ts'
import { fixture, fixtureNames, ofType, parse, textOf } from './parse-helpers.ts'

const claude = createClaudeStreamParser

test('plain stream-json: session, text, exact result', () => {
  const { events, result } = parse(claude, fixture('claude-stream-json-text.jsonl'))
  assert.deepEqual(events.slice(0, 2), [
    { type: 'session', sessionId: 'c3c8289d-d4f1-479a-90a8-146b716d6c26' },
    { type: 'text', text: 'Hello from fake-anthropic. You said: hello' }
  ])
  assert.deepEqual(result, {
    text: 'Hello from fake-anthropic. You said: hello',
    sessionId: 'c3c8289d-d4f1-479a-90a8-146b716d6c26',
    costUsd: 0.025544999999999998,
    tokens: { input: 8460, output: 11, total: 8471 },
    durationMs: 141,
    numTurns: 1,
    isError: false,
    complete: true
  })
  assert.deepEqual(events.at(-1), { type: 'result', result })
})

test('tool run: tool event with the command, text of both turns separated, final text only in the result', () => {
  const { events, result } = parse(claude, fixture('claude-stream-json-tool.jsonl'))
  assert.deepEqual(events.filter((e) => e.type !== 'session' && e.type !== 'result'), [
    { type: 'text', text: 'I will run a command.' },
    { type: 'tool', name: 'Bash', summary: 'echo hi' },
    { type: 'text', text: '\n\nThe command printed: hi' }
  ])
  assert.equal(result.text, 'The command printed: hi')
  assert.equal(result.numTurns, 2)
  assert.equal(result.costUsd, 0.051371999999999994)
  assert.deepEqual(result.tokens, { input: 17009, output: 23, total: 17032 })
})

test('partial messages: deltas are emitted and the whole assistant block is not counted again', () => {
  const { events, result } = parse(claude, fixture('claude-partial.jsonl'))
  assert.deepEqual(ofType(events, 'text').map((e) => e.text), ['Hello from fake-anthropic. ', 'You said: hello'])
  assert.equal(textOf(events), result.text)
  assert.equal(result.sessionId, '0864e9ea-9a8d-43aa-badf-3cc444945e38')
  assert.equal(result.durationMs, 156)
  assert.equal(ofType(events, 'status').length, 0, '"requesting" is not worth a status line')
})

test('partial messages with a tool: exact event sequence', () => {
  const { events, result } = parse(claude, fixture('claude-partial-tool.jsonl'))
  assert.deepEqual(events.slice(0, -1), [
    { type: 'session', sessionId: 'f6e8caa5-c695-4639-bcb6-ac0acc75bcb4' },
    { type: 'text', text: 'I will run ' },
    { type: 'text', text: 'a command.' },
    { type: 'tool', name: 'Bash', summary: 'echo hi' },
    { type: 'text', text: '\n\nThe command printed: ' },
    { type: 'text', text: 'hi' }
  ])
  assert.equal(result.text, 'The command printed: hi')
  assert.equal(result.costUsd, 0.051371999999999994)
  assert.deepEqual(result.tokens, { input: 17009, output: 23, total: 17032 })
})

test('resume keeps the session id across runs', () => {
  const first = parse(claude, fixture('claude-resume-1.jsonl')).result
  const second = parse(claude, fixture('claude-resume-2.jsonl')).result
  assert.equal(first.sessionId, '9f195523-1235-4b9b-bbe6-5cdf6ccc878b')
  assert.equal(second.sessionId, first.sessionId)
  assert.equal(first.text, 'Hello from fake-anthropic. You said: remember the word PINEAPPLE')
  assert.equal(second.text, 'Hello from fake-anthropic. You said: which word did I ask you to remember?')
  assert.equal(first.costUsd, 0.025637999999999998)
  assert.equal(second.costUsd, 0.025842000000000004)
  assert.deepEqual(second.tokens, { input: 8519, output: 19, total: 8538 })
})

const apiErrors = [
  ['401', 'Invalid API key · Fix external API key', 'authentication_failed'],
  ['429', 'API Error: Request rejected (429) · fake rate limit', 'rate_limit'],
  ['500', 'API Error: 500 fake internal server error. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:43705).', 'server_error'],
  ['529', 'API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:33767).', 'overloaded']
] as const

for (const [status, message, reason] of apiErrors) {
  test(`API error ${status}: retries as status lines, an error result (subtype success, is_error true), no reply text`, () => {
    const { events, result } = parse(claude, fixture(`claude-error-${status}.jsonl`))
    assert.deepEqual(ofType(events, 'status'), [
      { type: 'status', kind: 'retrying', status: `retrying 1/2 (${reason})` },
      { type: 'status', kind: 'retrying', status: `retrying 2/2 (${reason})` }
    ])
    assert.deepEqual(ofType(events, 'text'), [], 'the synthetic error message is not streamed as a reply')
    assert.equal(result.isError, true)
    assert.equal(result.complete, true)
    assert.equal(result.apiErrorStatus, Number(status))
    assert.equal(result.text, message)
    assert.equal(result.errorMessage, message)
    assert.equal(result.costUsd, 0)
    assert.equal(result.numTurns, 1)
  })
}

test('SIGTERM mid-stream: no result event; end() pieces together the streamed text', () => {
  const { events, result } = parse(claude, fixture('claude-sigterm.jsonl'))
  assert.equal(ofType(events, 'result').length, 0)
  assert.deepEqual(result, {
    text: 'chunk1 chunk2 chunk3 chunk4 chunk5 chunk6 chunk7 chunk8 chunk9 chunk10 chunk11 ',
    sessionId: '5161e320-7e59-4675-b7aa-43108fbe14f6',
    costUsd: null,
    tokens: { input: 8463, output: 1, total: 8464 },
    durationMs: 0,
    numTurns: 1,
    isError: true,
    errorMessage: 'Claude stopped before its final result',
    complete: false
  })
})

test('unknown resume id: an error result that names the session, no session event', () => {
  const { events, result } = parse(claude, fixture('claude-resume-unknown-id.jsonl'))
  assert.equal(ofType(events, 'session').length, 0)
  assert.equal(result.isError, true)
  assert.equal(result.text, '')
  assert.equal(result.errorMessage, 'No conversation found with session ID: 00000000-0000-4000-8000-000000000000')
  assert.equal(result.sessionId, '00000000-0000-4000-8000-000000000000')
  assert.equal(result.numTurns, 0)
})

test('connection refused, killed while retrying: the last API error is kept for the message', () => {
  const { events, result } = parse(claude, fixture('claude-conn-refused-default-retries.jsonl'))
  assert.equal(ofType(events, 'status').length, 6)
  assert.equal(result.complete, false)
  assert.equal(result.sessionId, 'de4798b4-2a9f-4d26-83ee-bf1278394759')
  assert.match(result.errorMessage ?? '', /last API error: unknown/)
})

test('--output-format json: the one result line parses like the stream result', () => {
  const { result } = parse(claude, fixture('claude-json-tool.json'))
  assert.equal(result.text, 'The command printed: hi')
  assert.equal(result.sessionId, '90e36e4f-72ce-4914-9e8b-034f395bd3b3')
  assert.equal(result.numTurns, 2)
})

test('several prompts on one stream: one result each, no separator carried over', () => {
  const { events, result } = parse(claude, fixture('claude-stream-json-input.jsonl'))
  assert.deepEqual(ofType(events, 'result').map((e) => e.result.text), [
    'Hello from fake-anthropic. You said: first turn via stdin',
    'Hello from fake-anthropic. You said: second turn via stdin'
  ])
  assert.deepEqual(ofType(events, 'text').map((e) => e.text), [
    'Hello from fake-anthropic. You said: first turn via stdin',
    'Hello from fake-anthropic. You said: second turn via stdin'
  ])
  assert.equal(result.text, 'Hello from fake-anthropic. You said: second turn via stdin')
})

test('empty stdout (refused as root, missing --verbose): nothing seen, an incomplete result', () => {
  for (const name of ['claude-bypass-refused-as-root.jsonl', 'claude-stream-json-noverbose.jsonl']) {
    const parsed = parse(claude, fixture(name))
    assert.equal(parsed.sawOutput, false, name)
    assert.equal(parsed.result.complete, false, name)
    assert.deepEqual(parsed.events, [], name)
  }
})

test('thinking, compacting and sub-agent output', () => {
  const lines = [
    { type: 'system', subtype: 'init', session_id: 's1' },
    { type: 'stream_event', event: { type: 'message_start', message: { id: 'm1', usage: { input_tokens: 5 } } } },
    { type: 'stream_event', event: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } } },
    { type: 'assistant', message: { id: 'm1', content: [{ type: 'thinking', thinking: 'hmm' }] } },
    { type: 'system', subtype: 'status', status: 'compacting' },
    { type: 'assistant', parent_tool_use_id: 'toolu_1', message: { id: 'sub', content: [{ type: 'text', text: 'sub-agent talk' }, { type: 'tool_use', name: 'Read', input: { file_path: '/a/b.ts' } }] } },
    { type: 'assistant', message: { id: 'm2', content: [{ type: 'thinking', thinking: 'whole thought' }, { type: 'text', text: 'done' }] } }
  ]
  const { events } = parse(claude, lines.map((l) => JSON.stringify(l)).join('\n'))
  assert.deepEqual(events, [
    { type: 'session', sessionId: 's1' },
    { type: 'thinking', text: 'hmm' },
    { type: 'status', kind: 'compacting', status: 'compacting' },
    { type: 'tool', name: 'Read', summary: '/a/b.ts' },
    { type: 'thinking', text: 'whole thought' },
    { type: 'text', text: 'done' }
  ])
})

test('a malformed line is reported and skipped; unknown types are ignored', () => {
  const data = 'not json\n{"type":"brand_new","x":1}\n[1,2]\n' + fixture('claude-stream-json-text.jsonl').toString()
  const { result, malformed } = parse(claude, data)
  assert.equal(malformed.length, 2)
  assert.equal(malformed[0]?.excerpt, 'not json')
  assert.equal(result.text, 'Hello from fake-anthropic. You said: hello')
})

test('a last line without newline is parsed at end()', () => {
  const data = fixture('claude-stream-json-text.jsonl').toString().trimEnd()
  assert.equal(parse(claude, data).result.complete, true)
})

test('every Claude transcript gives the same events whole or in random chunks (split inside UTF-8 too)', () => {
  for (const name of fixtureNames('claude-')) {
    const data = fixture(name)
    const whole = parse(claude, data)
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }), (sizes) => {
      const chunked = parse(claude, data, sizes)
      assert.deepEqual(chunked.events, whole.events, name)
      assert.deepEqual(chunked.result, whole.result, name)
    }), { numRuns: 25 })
    assert.deepEqual(parse(claude, data, [1]).events, whole.events, `${name} byte by byte`)
  }
})

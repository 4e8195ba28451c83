// The real Claude Code binary against the fake Anthropic API: the ground truth that the service's
// Claude provider is built on. Each call takes about half a second.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { prepareClaudeEnv } from '../e2e-support/real-cli-env.ts'
import { jsonLines, runRealCli } from '../e2e-support/run-real-cli.ts'

const STREAM_ARGS = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model', 'sonnet']

function resultOf (stdout: string): Record<string, unknown> {
  const events = jsonLines(stdout)
  const result = events.at(-1)
  assert.equal(result?.['type'], 'result', `the last line is the result event; got:\n${stdout.slice(-1000)}`)
  return result
}

function textDeltas (stdout: string): string[] {
  return jsonLines(stdout).flatMap((e) => {
    const event = e['event'] as { type?: string, delta?: { type?: string, text?: string } } | undefined
    return e['type'] === 'stream_event' && event?.type === 'content_block_delta' && event.delta?.type === 'text_delta' ? [event.delta.text ?? ''] : []
  })
}

test('claude -p stream-json gives the scripted reply in the result event, with a session id known from the first line', async (t) => {
  const cli = await prepareClaudeEnv({ reply: { kind: 'text', text: 'Scripted answer from the fake API.', chunks: 3 } })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...STREAM_ARGS, '--', 'hello'], { timeoutMs: 20_000 })

  assert.equal(run.code, 0, run.stderr)
  const events = jsonLines(run.stdout)
  assert.equal(events[0]?.['type'], 'system')
  assert.equal(events[0]?.['subtype'], 'init')
  const sessionId = events[0]?.['session_id']
  assert.match(String(sessionId), /^[0-9a-f-]{36}$/)
  const result = resultOf(run.stdout)
  assert.equal(result['is_error'], false)
  assert.equal(result['result'], 'Scripted answer from the fake API.')
  assert.equal(result['session_id'], sessionId)
  const deltas = textDeltas(run.stdout)
  assert.equal(deltas.length, 3, 'each API delta is forwarded as a stream_event')
  assert.equal(deltas.join(''), 'Scripted answer from the fake API.')
  assert.equal(cli.api.calls.length, 1)
  assert.equal(cli.api.calls[0]?.prompt, 'hello')
  // One model request. Claude 2.1.197 probes the API root with `HEAD /` first; 2.1.332 no longer does,
  // so the probe may or may not be there, but nothing else may.
  const requests = cli.api.requests.map((r) => `${r.method} ${r.path}`)
  assert.deepEqual(requests.filter((r) => r !== 'HEAD /'), ['POST /v1/messages'])
  assert.ok(requests.indexOf('HEAD /') <= 0, `a HEAD / probe comes first, if at all: ${requests.join(', ')}`)
})

test('claude --resume from the same cwd and HOME keeps the session id and sends the earlier turn to the API', async (t) => {
  const cli = await prepareClaudeEnv()
  t.after(cli.cleanup)

  const first = await runRealCli(cli, [...STREAM_ARGS, '--', 'remember the word PINEAPPLE'], { timeoutMs: 20_000 })
  assert.equal(first.code, 0, first.stderr)
  const sessionId = resultOf(first.stdout)['session_id']
  assert.equal(typeof sessionId, 'string')

  const second = await runRealCli(cli, [...STREAM_ARGS, '--resume', String(sessionId), '--', 'which word did I ask you to remember?'], { timeoutMs: 20_000 })
  assert.equal(second.code, 0, second.stderr)
  const result = resultOf(second.stdout)
  assert.equal(result['session_id'], sessionId)
  assert.equal(result['result'], 'Hello from fake-anthropic. You said: which word did I ask you to remember?')

  const call = cli.api.calls[1]
  assert.ok(call !== undefined)
  assert.deepEqual(call.turns.filter((turn) => turn.role !== 'system').map((turn) => turn.role), ['user', 'assistant', 'user'])
  assert.ok(call.transcript.includes('remember the word PINEAPPLE'), 'the resumed request carries the first prompt')
  assert.ok(call.transcript.includes('Hello from fake-anthropic. You said: remember the word PINEAPPLE'), 'and the first answer')
  assert.equal(call.prompt, 'which word did I ask you to remember?')
})

test('claude runs a Bash tool the model asks for and sends its output back in the next request', async (t) => {
  const cli = await prepareClaudeEnv({ reply: (call) => call.toolResult === undefined ? { kind: 'tool', command: 'echo hi', text: 'Running it.' } : `The tool said ${call.toolResult}` })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...STREAM_ARGS, '--', 'say hi with the shell'], { timeoutMs: 20_000 })

  assert.equal(run.code, 0, run.stderr)
  const events = jsonLines(run.stdout)
  const toolResult = events.find((e) => e['type'] === 'user')
  assert.deepEqual((toolResult?.['tool_use_result'] as { stdout?: string } | undefined)?.stdout, 'hi')
  const result = resultOf(run.stdout)
  assert.equal(result['result'], 'The tool said hi')
  assert.equal(result['num_turns'], 2)
  assert.deepEqual(cli.api.calls.map((c) => c.toolResult), [undefined, 'hi'])
})

test('claude text deltas reach stdout while the API is still streaming', async (t) => {
  const cli = await prepareClaudeEnv({ reply: { kind: 'text', text: 'one two three four', chunks: 4, delayMs: 150 } })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...STREAM_ARGS, '--', 'stream slowly'], { timeoutMs: 20_000 })

  assert.equal(run.code, 0, run.stderr)
  const deltaTimes = run.lines.filter((line) => line.text.includes('"text_delta"')).map((line) => line.at)
  assert.equal(deltaTimes.length, 4)
  const first = deltaTimes[0] ?? 0
  const last = deltaTimes[3] ?? 0
  assert.ok(last - first >= 300, `deltas arrive spread out (${Math.round(first)} ms … ${Math.round(last)} ms), not all at the end`)
  assert.equal(resultOf(run.stdout)['result'], 'one two three four')
})

test('claude reports an API 500 as is_error quickly when retries are capped', async (t) => {
  const cli = await prepareClaudeEnv({ reply: { kind: 'error', status: 500 }, maxRetries: 1 })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...STREAM_ARGS, '--', 'hello'], { timeoutMs: 20_000 })

  assert.equal(run.code, 1)
  const result = resultOf(run.stdout)
  assert.equal(result['is_error'], true)
  assert.equal(result['api_error_status'], 500)
  assert.match(String(result['result']), /^API Error: 500 fake internal server error/)
  assert.equal(jsonLines(run.stdout).filter((e) => e['subtype'] === 'api_retry').length, 1)
  assert.equal(cli.api.calls.length, 2, 'one call and one retry')
  // Minutes with the default retries; a shared machine may take 10 s to start the binary twice.
  assert.ok(run.wallMs < 15_000, `done in ${run.wallMs} ms`)
})

// The real Codex binary against the fake Responses API: the ground truth that the service's Codex
// provider is built on. Each call takes about a quarter of a second.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { prepareCodexEnv } from '../e2e-support/real-cli-env.ts'
import { jsonLines, runRealCli } from '../e2e-support/run-real-cli.ts'

// Codex 0.169.0 has no `--full-auto` any more ("unexpected argument"); `-s workspace-write` is its sandbox.
// These are `codex exec` options: `codex exec resume` rejects `--color` and `-s` after `resume`,
// but takes them before it.
const EXEC_ARGS = ['exec', '--json', '--color', 'never', '--skip-git-repo-check', '-s', 'workspace-write']

function agentMessages (stdout: string): string[] {
  return jsonLines(stdout).flatMap((e) => {
    const item = e['item'] as { type?: string, text?: string } | undefined
    return e['type'] === 'item.completed' && item?.type === 'agent_message' ? [item.text ?? ''] : []
  })
}

function threadId (stdout: string): string {
  const first = jsonLines(stdout)[0]
  assert.equal(first?.['type'], 'thread.started', `the first line is thread.started; got:\n${stdout.slice(0, 1000)}`)
  return String(first['thread_id'])
}

test('codex exec --json gives the scripted reply in an agent_message, after thread.started with the thread id', async (t) => {
  const cli = await prepareCodexEnv({ reply: 'Scripted answer from the fake API.' })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...EXEC_ARGS, '--', 'hello'], { timeoutMs: 20_000 })

  assert.equal(run.code, 0, run.stderr)
  assert.match(threadId(run.stdout), /^[0-9a-f-]{36}$/)
  assert.deepEqual(agentMessages(run.stdout), ['Scripted answer from the fake API.'])
  assert.equal(jsonLines(run.stdout).at(-1)?.['type'], 'turn.completed')
  assert.equal(cli.api.calls[0]?.prompt, 'hello')
  assert.deepEqual(cli.api.requests.map((r) => `${r.method} ${r.path}`), ['POST /v1/responses'], 'plain HTTP, no WebSocket attempt')
})

test('codex exec resume <thread_id> continues the same thread and sends the earlier turn to the API', async (t) => {
  const cli = await prepareCodexEnv()
  t.after(cli.cleanup)

  const first = await runRealCli(cli, [...EXEC_ARGS, '--', 'remember the word PINEAPPLE'], { timeoutMs: 20_000 })
  assert.equal(first.code, 0, first.stderr)
  const id = threadId(first.stdout)

  const second = await runRealCli(cli, [...EXEC_ARGS, 'resume', id, '--', 'which word did I ask you to remember?'], { timeoutMs: 20_000 })
  assert.equal(second.code, 0, second.stderr)
  assert.equal(threadId(second.stdout), id)
  assert.deepEqual(agentMessages(second.stdout), ['Hello from fake-openai. You said: which word did I ask you to remember?'])

  const call = cli.api.calls[1]
  assert.ok(call !== undefined)
  const conversation = call.turns.filter((turn) => turn.role !== 'developer' && !turn.text.startsWith('<environment_context>'))
  assert.deepEqual(conversation, [
    { role: 'user', text: 'remember the word PINEAPPLE' },
    { role: 'assistant', text: 'Hello from fake-openai. You said: remember the word PINEAPPLE' },
    { role: 'user', text: 'which word did I ask you to remember?' }
  ])
  assert.equal(call.prompt, 'which word did I ask you to remember?')
})

test('codex runs the exec_command the model asks for and sends its output back in the next request', async (t) => {
  const cli = await prepareCodexEnv({ reply: (call) => call.toolResult === undefined ? { kind: 'tool', command: 'echo hi' } : 'The tool ran.' })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...EXEC_ARGS, '--', 'say hi with the shell'], { timeoutMs: 20_000 })

  assert.equal(run.code, 0, run.stderr)
  const command = jsonLines(run.stdout).find((e) => e['type'] === 'item.completed' && (e['item'] as { type?: string }).type === 'command_execution')
  assert.deepEqual(command?.['item'], { id: 'item_0', type: 'command_execution', command: "/bin/bash -lc 'echo hi'", aggregated_output: 'hi\n', exit_code: 0, status: 'completed' })
  assert.deepEqual(agentMessages(run.stdout), ['The tool ran.'])
  assert.equal(cli.api.calls.length, 2)
  assert.match(cli.api.calls[1]?.toolResult ?? '', /Process exited with code 0\n[\s\S]*Output:\nhi\n$/)
})

test('codex reports an API 500 as turn.failed quickly when retries are capped', async (t) => {
  const cli = await prepareCodexEnv({ reply: { kind: 'error', status: 500 }, maxRetries: 1 })
  t.after(cli.cleanup)

  const run = await runRealCli(cli, [...EXEC_ARGS, '--', 'hello'], { timeoutMs: 20_000 })

  assert.equal(run.code, 1)
  const last = jsonLines(run.stdout).at(-1)
  assert.equal(last?.['type'], 'turn.failed')
  assert.ok(cli.api.calls.length >= 2 && cli.api.calls.length <= 4, `retried, but only a little (${cli.api.calls.length} calls)`)
  assert.ok(run.wallMs < 8000, `done in ${run.wallMs} ms`)
})

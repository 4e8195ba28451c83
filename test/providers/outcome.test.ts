import { test } from 'node:test'
import assert from 'node:assert/strict'
import { classifyExit, usefulStderr, type ExitFacts } from '../../src/providers/outcome.ts'
import { createClaudeStreamParser } from '../../src/providers/claude-stream.ts'
import { createCodexStreamParser } from '../../src/providers/codex-stream.ts'
import { fixture, parse } from './parse-helpers.ts'

const base: ExitFacts = {
  provider: 'claude',
  binary: '/usr/bin/claude',
  exitCode: 0,
  signal: null,
  stopReason: null,
  timeoutMs: 600_000,
  durationMs: 1000,
  result: null,
  stderrTail: ''
}

function claudeFixture (name: string, exitCode: number): ExitFacts {
  return { ...base, exitCode, result: parse(createClaudeStreamParser, fixture(name)).result, stderrTail: fixture(`${name}.stderr.txt`).toString() }
}

function codexFixture (name: string, exitCode: number | null, signal: string | null = null): ExitFacts {
  return {
    ...base,
    provider: 'codex',
    binary: 'codex',
    exitCode,
    signal,
    result: parse(createCodexStreamParser, fixture(name)).result,
    stderrTail: fixture(`${name}.stderr.txt`).toString()
  }
}

test('a complete, good result with exit 0 is a success without a message', () => {
  assert.deepEqual(classifyExit(claudeFixture('claude-stream-json-text.jsonl', 0)), { status: 'success', kind: 'success' })
  assert.deepEqual(classifyExit(codexFixture('codex-exec-text.jsonl', 0)), { status: 'success', kind: 'success' })
})

test('what ductor did comes first: user abort, shutdown, timeout, stale', () => {
  const running = claudeFixture('claude-sigterm.jsonl', 0)
  assert.deepEqual(classifyExit({ ...running, exitCode: null, signal: 'SIGTERM', stopReason: 'user' }),
    { status: 'error:aborted', kind: 'aborted', userMessage: 'Stopped.' })
  assert.equal(classifyExit({ ...running, stopReason: 'shutdown' }).status, 'error:aborted')
  assert.deepEqual(classifyExit({ ...running, signal: 'SIGKILL', stopReason: 'timeout', timeoutMs: 600_000 }),
    { status: 'error:timeout', kind: 'timeout', userMessage: 'Claude Code timed out after 600 s.' })
  assert.equal(classifyExit({ ...running, stopReason: 'stale', durationMs: 1_300_000 }).userMessage,
    'Claude Code was stopped after running 1300 s (stale process).')
})

test('missing binary: the install command; missing docker and missing folder say so', () => {
  assert.deepEqual(classifyExit({ ...base, spawnError: 'ENOENT', exitCode: null }), {
    status: 'error:cli_not_found_claude',
    kind: 'cli_not_found',
    userMessage: 'Claude Code CLI not found. Install it with `npm install -g @anthropic-ai/claude-code`'
  })
  assert.equal(classifyExit({ ...base, provider: 'codex', spawnError: 'ENOENT', exitCode: null }).userMessage,
    'Codex CLI not found. Install it with `npm install -g @openai/codex`')
  assert.match(classifyExit({ ...base, binary: 'docker', spawnError: 'ENOENT' }).userMessage ?? '', /^Docker not found/)
  assert.equal(classifyExit({ ...base, spawnError: 'ENOCWD' }).status, 'error:folder_missing')
})

test('not logged in: Claude 401 / invalid key, Codex 401 Unauthorized', () => {
  assert.deepEqual(classifyExit(claudeFixture('claude-error-401.jsonl', 1)), {
    status: 'error:not_logged_in', kind: 'not_logged_in', userMessage: 'Claude Code is not logged in: run `claude` to log in.'
  })
  assert.deepEqual(classifyExit(codexFixture('codex-error-401.jsonl', 1)), {
    status: 'error:not_logged_in', kind: 'not_logged_in', userMessage: 'Codex is not logged in: run `codex login`.'
  })
  assert.equal(classifyExit({ ...base, exitCode: 1, stderrTail: 'Error: Please run /login first\n' }).status, 'error:not_logged_in')
})

test('API errors exit 1: exit_1 with the CLI\'s own error text', () => {
  const verdict = classifyExit(claudeFixture('claude-error-500.jsonl', 1))
  assert.equal(verdict.status, 'error:exit_1')
  assert.match(verdict.userMessage ?? '', /^Claude Code failed \(exit code 1\): API Error: 500 fake internal server error/)
  assert.match(classifyExit(codexFixture('codex-error-429.jsonl', 1)).userMessage ?? '', /429 Too Many Requests/)
})

test('unknown session: exit_1, the stderr reason, and a hint to start fresh', () => {
  const claude = classifyExit(claudeFixture('claude-resume-unknown-id.jsonl', 1))
  assert.equal(claude.status, 'error:exit_1')
  assert.equal(claude.sessionNotFound, true)
  assert.match(claude.userMessage ?? '', /No conversation found with session ID/)
  const codex = classifyExit(codexFixture('codex-exec-resume-unknown-id.jsonl', 1))
  assert.equal(codex.sessionNotFound, true)
  assert.equal(codex.userMessage, 'Codex failed (exit code 1): Error: thread/resume: thread/resume failed: no rollout found for thread id 00000000-0000-4000-8000-000000000000 (code -32600)')
})

test('SIGKILL not sent by ductor is "killed" (out of memory); another signal maps to 128+n', () => {
  assert.equal(classifyExit(codexFixture('codex-sigterm.jsonl', null, 'SIGKILL')).status, 'error:killed')
  const term = classifyExit(codexFixture('codex-sigterm.jsonl', null, 'SIGTERM'))
  assert.equal(term.status, 'error:exit_143')
  assert.match(term.userMessage ?? '', /^Codex failed \(SIGTERM, exit code 143\)/)
})

test('exit 0 with an error result, or with no result at all, is a cli_error', () => {
  const withError = { ...base, result: { ...parse(createClaudeStreamParser, fixture('claude-error-500.jsonl')).result } }
  assert.equal(classifyExit(withError).status, 'error:cli_error')
  assert.deepEqual(classifyExit({ ...base, result: null }), { status: 'error:cli_error', kind: 'cli_error', userMessage: 'Claude Code ended without a reply.' })
})

test('stderr: the last meaningful lines, noise dropped, bounded', () => {
  const stderr = fixture('codex-exec-wire-api-chat.jsonl.stderr.txt').toString()
  const tail = usefulStderr(stderr)
  assert.ok(!tail.includes('WARNING: proceeding'))
  assert.match(tail, /wire_api = "chat"` is no longer supported/)
  assert.ok(tail.length <= 300)
  assert.equal(usefulStderr('x'.repeat(1000)).length, 300)
  assert.equal(usefulStderr('Reading additional input from stdin...\n\n'), '')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildClaudeArgv } from '../../src/providers/claude.ts'

test('minimal argv: print mode, stream-json with partial messages, permission mode, model, prompt after --', () => {
  assert.deepEqual(buildClaudeArgv({ binary: '/usr/bin/claude', prompt: '-rf hello', model: 'opus', permissionMode: 'default' }), [
    '/usr/bin/claude', '-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages',
    '--permission-mode', 'default', '--model', 'opus', '--', '-rf hello'
  ])
})

test('every option in SPEC order, cli_parameters just before --', () => {
  const argv = buildClaudeArgv({
    binary: 'claude',
    prompt: 'next',
    model: 'sonnet',
    permissionMode: 'bypassPermissions',
    appendSystemPrompt: 'Memory:\n- likes tea',
    maxTurns: 5,
    maxBudgetUsd: 0.5,
    resumeSessionId: 'abc-123',
    noSessionPersistence: true,
    cliParameters: ['--allowedTools', 'Bash(echo:*)']
  })
  assert.deepEqual(argv.slice(10), [
    '--append-system-prompt', 'Memory:\n- likes tea',
    '--max-turns', '5',
    '--max-budget-usd', '0.5',
    '--resume', 'abc-123',
    '--no-session-persistence',
    '--allowedTools', 'Bash(echo:*)',
    '--', 'next'
  ])
})

test('null or blank optional values are left out', () => {
  const argv = buildClaudeArgv({
    binary: 'claude',
    prompt: 'p',
    model: 'm',
    permissionMode: 'default',
    appendSystemPrompt: '  ',
    maxTurns: null,
    maxBudgetUsd: null,
    resumeSessionId: '',
    noSessionPersistence: false
  })
  assert.equal(argv.length, 12)
  assert.deepEqual(argv.slice(-2), ['--', 'p'])
})

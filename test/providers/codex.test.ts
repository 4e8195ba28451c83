import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildCodexArgv, foldCodexPrompt } from '../../src/providers/codex.ts'

test('a new run: exec --json, no colour, no git check, sandbox from the permission mode', () => {
  assert.deepEqual(buildCodexArgv({ binary: 'codex', prompt: 'hello', permissionMode: 'default' }), [
    'codex', 'exec', '--json', '--color', 'never', '--skip-git-repo-check', '--sandbox', 'workspace-write', '--', 'hello'
  ])
  assert.equal(buildCodexArgv({ binary: 'codex', prompt: 'x', permissionMode: 'bypassPermissions' })[6],
    '--dangerously-bypass-approvals-and-sandbox')
})

test('model, reasoning effort, cli_parameters and images, the prompt after --', () => {
  assert.deepEqual(buildCodexArgv({
    binary: '/opt/codex',
    prompt: 'look',
    model: 'gpt-5.5',
    permissionMode: 'bypassPermissions',
    reasoningEffort: 'high',
    images: ['/tmp/a.png', '/tmp/b.jpg'],
    cliParameters: ['--add-dir', '/data']
  }), [
    '/opt/codex', 'exec', '--json', '--color', 'never', '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox', '--model', 'gpt-5.5', '-c', 'model_reasoning_effort=high',
    '--add-dir', '/data', '--image', '/tmp/a.png', '--image', '/tmp/b.jpg', '--', 'look'
  ])
})

test('resume: options before the subcommand, thread id after it, images after that', () => {
  assert.deepEqual(buildCodexArgv({
    binary: 'codex', prompt: 'again', permissionMode: 'default', model: 'gpt-5.5', resumeThreadId: 'th-1', images: ['/i.png']
  }), [
    'codex', 'exec', '--json', '--color', 'never', '--skip-git-repo-check', '--sandbox', 'workspace-write', '--model', 'gpt-5.5',
    'resume', 'th-1', '--image', '/i.png', '--', 'again'
  ])
})

test('system text and memory are folded into the prompt', () => {
  assert.equal(foldCodexPrompt('hi', null), 'hi')
  assert.equal(foldCodexPrompt('hi', '  Be brief.\n'), 'Be brief.\n\n---\n\nhi')
  assert.equal(buildCodexArgv({ binary: 'codex', prompt: 'hi', permissionMode: 'default', systemPrompt: 'Rules' }).at(-1), 'Rules\n\n---\n\nhi')
})

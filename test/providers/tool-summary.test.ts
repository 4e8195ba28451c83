import { test } from 'node:test'
import assert from 'node:assert/strict'
import { shorten, summarizeToolInput, unwrapShellCommand } from '../../src/providers/tool-summary.ts'

test('Bash shows the command on one line, cut to 60 characters', () => {
  assert.equal(summarizeToolInput('Bash', { command: 'echo hi', description: 'Print hi' }), 'echo hi')
  const long = summarizeToolInput('Bash', { command: 'npm   test\n&& ' + 'x'.repeat(100) })
  assert.equal(long.length, 60)
  assert.ok(long.startsWith('npm test && xxx'))
  assert.ok(long.endsWith('…'))
})

test('file tools show the path, keeping its end', () => {
  assert.equal(summarizeToolInput('Read', { file_path: '/home/u/a.ts' }), '/home/u/a.ts')
  const deep = summarizeToolInput('Edit', { file_path: '/very/' + 'deep/'.repeat(20) + 'file-name.ts', old_string: 'x' })
  assert.equal(deep.length, 60)
  assert.ok(deep.endsWith('/file-name.ts'))
  assert.ok(deep.startsWith('…'))
})

test('other tools: the telling field, a todo count, or nothing', () => {
  assert.equal(summarizeToolInput('WebFetch', { url: 'https://example.com', prompt: 'x' }), 'https://example.com')
  assert.equal(summarizeToolInput('Grep', { pattern: 'TODO', path: '' }), 'TODO')
  assert.equal(summarizeToolInput('TodoWrite', { todos: [{}, {}, {}] }), '3 items')
  assert.equal(summarizeToolInput('mcp__x__y', { id: 7 }), '')
  assert.equal(summarizeToolInput('Bash', null), '')
})

test('codex shell wrappers are removed', () => {
  assert.equal(unwrapShellCommand("/bin/bash -lc 'echo hi'"), 'echo hi')
  assert.equal(unwrapShellCommand("bash -lc 'echo '\\''quoted'\\'''"), "echo 'quoted'")
  assert.equal(unwrapShellCommand('ls -la'), 'ls -la')
  assert.equal(shorten('  a \n b  '), 'a b')
})

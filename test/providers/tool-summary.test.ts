import { test } from 'node:test'
import assert from 'node:assert/strict'
import { shorten, summarizeToolInput, unwrapShellCommand } from '../../src/providers/tool-summary.ts'
import fc from 'fast-check'

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

test('unwrapShellCommand reads commands exactly as the pattern it replaced (sh|bash|zsh -c|-lc, quoted)', () => {
  const reference = (command: string): string => {
    const match = /^(?:\S*\/)?(?:ba|z)?sh -l?c '([\s\S]*)'$/.exec(command)
    if (match?.[1] !== undefined) return match[1].replaceAll("'\\''", "'")
    return /^(?:\S*\/)?(?:ba|z)?sh -l?c "([\s\S]*)"$/.exec(command)?.[1] ?? command
  }
  const part = fc.constantFrom('/bin/', '/usr/bin/', 'x/', '', 'bash', 'zsh', 'sh', 'fish', ' ', '-c', '-lc', "'", '"', "'\\''", 'echo', '\n', 'a b')
  fc.assert(fc.property(fc.array(part, { maxLength: 9 }), (parts) => {
    const command = parts.join('')
    assert.equal(unwrapShellCommand(command), reference(command))
  }), { numRuns: 5000 })
})

test('shorten collapses and trims every kind of whitespace, however it is placed', () => {
  const part = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u2003', 'a', 'bc', 'x'.repeat(30))
  fc.assert(fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
    const text = parts.join('')
    const flat = text.replace(/\s+/g, ' ').trim()
    assert.equal(shorten(text), flat.length <= 60 ? flat : flat.slice(0, 59).trimEnd() + '…')
  }), { numRuns: 3000 })
})

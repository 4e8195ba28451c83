import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serveShortcut } from '../../src/cli/serve-shortcut.ts'

test('`ductor serve` and what the supervisor and the service units start take the short path', () => {
  assert.deepEqual(serveShortcut(['serve'], true), { supervisor: true, verbose: false })
  assert.deepEqual(serveShortcut(['serve', '--no-supervisor'], false), { supervisor: false, verbose: false })
  assert.deepEqual(serveShortcut(['serve', '-v', '--no-supervisor'], true), { supervisor: false, verbose: true })
  assert.deepEqual(serveShortcut(['serve', '--verbose'], true), { supervisor: true, verbose: true })
  // A bare `ductor` outside a terminal serves; in a terminal the full CLI decides (setup wizard).
  assert.deepEqual(serveShortcut([], false), { supervisor: true, verbose: false })
  assert.equal(serveShortcut([], true), null)
})

test('anything else goes to the full command line: help, unknown flags, other commands', () => {
  for (const args of [['serve', '--help'], ['serve', '-h'], ['serve', '--port', '1'], ['serve', 'x'], ['status'], ['-v', 'serve'], ['--version'], ['servee']]) {
    assert.equal(serveShortcut(args, false), null, args.join(' '))
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ductorHomeNote } from '../../src/home/paths.ts'

test('ductor_home naming another folder than the home is said at start; the same folder, none or a non-path is not', () => {
  assert.equal(ductorHomeNote('~/.ductor', '/home/ann/.ductor', '/home/ann'), null)
  assert.equal(ductorHomeNote('/home/ann/.ductor/', '/home/ann/.ductor', '/home/ann'), null)
  assert.equal(ductorHomeNote(undefined, '/home/ann/.ductor', '/home/ann'), null)
  assert.equal(ductorHomeNote('', '/home/ann/.ductor', '/home/ann'), null)
  assert.equal(ductorHomeNote(42, '/home/ann/.ductor', '/home/ann'), null)
  assert.equal(ductorHomeNote('/srv/ductor', '/home/ann/.ductor', '/home/ann'),
    'config.json names "/srv/ductor" (/srv/ductor) as ductor_home, where the Python ductor kept its sessions, jobs and workspace; ' +
    'this edition keeps them in its home /home/ann/.ductor. If your data is in /srv/ductor, start ductor with DUCTOR_HOME=/srv/ductor')
  assert.match(ductorHomeNote('~/.ductor', '/tmp/copy', '/home/ann') ?? '', /^config\.json names "~\/\.ductor" \(\/home\/ann\/\.ductor\) as ductor_home/)
})

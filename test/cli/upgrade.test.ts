import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ROOT, tempDir, ductor } from '../helper.ts'
import { join } from 'node:path'
import { fakeExecutable, json, localServer } from '../ops/helpers.ts'
import { readVersion } from '../../src/version.ts'

test('`ductor upgrade --check` asks the registry npm uses; a git checkout is not upgraded with npm', async (t) => {
  const home = await tempDir(t)
  const registry = await localServer(t, (req, res) => json(res, 200, { name: 'ductor', version: '99.0.0' }))
  // A fake npm first on PATH: whatever happens, this test never installs anything.
  const bin = join(home, 'bin')
  await fakeExecutable(bin, 'npm', 'echo "fake npm $*" >&2; exit 1')
  const env = { DUCTOR_HOME: home, npm_config_registry: registry.url, PATH: `${bin}:${process.env['PATH'] ?? ''}` }
  const check = await ductor(['upgrade', '--check'], env)
  assert.equal(check.code, 0, check.stderr)
  // The tests run from a git checkout: --check names the command that works there, not `ductor upgrade`.
  assert.equal(check.stdout, `ductor 99.0.0 is available (this is ${readVersion()}, a git checkout at ${ROOT}). Update it with: cd ${ROOT} && git pull && npm ci && npm run build, then restart it\n`)
  assert.deepEqual(registry.paths, ['/ductor/latest'])

  // The tests run from a git checkout, so the upgrade itself is refused with the way to do it.
  const refused = await ductor(['upgrade'], env)
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /^ductor: ductor 99\.0\.0 is available, but this ductor runs from a git checkout .*git pull && npm ci && npm run build/)
  assert.equal(refused.stderr.trim().split('\n').length, 1)
})

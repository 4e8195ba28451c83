import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { buildServiceSpec, packageRoot } from '../../src/ops/service-spec.ts'
import { completeConfig } from '../../src/config.ts'
import { tempDir, ROOT } from '../helper.ts'
import { fakeExecutable } from './helpers.ts'

test('the spec finds node, this installation\'s bin/ductor.js and the CLIs\' folders for the service\'s PATH', async (t) => {
  const dir = await tempDir(t)
  await fakeExecutable(join(dir, 'claude-bin'), 'claude', 'exit 0')
  const codex = await fakeExecutable(join(dir, 'elsewhere'), 'codex-custom', 'exit 0')
  const config = completeConfig({ cli_paths: { codex } })
  const spec = await buildServiceSpec({
    env: { PATH: `${join(dir, 'claude-bin')}:/usr/bin` },
    userHome: '/home/u',
    platform: 'linux',
    config,
    home: '/home/u/.ductor'
  })
  assert.equal(spec.nodePath, process.execPath)
  assert.equal(spec.entry, join(ROOT, 'bin', 'ductor.js'))
  await access(spec.entry)
  assert.equal(packageRoot(), ROOT)
  assert.deepEqual(spec.pathDirs.slice(0, 4), [dirname(process.execPath), join(dir, 'claude-bin'), join(dir, 'elsewhere'), '/home/u/.local/bin'].filter((d, i, all) => all.indexOf(d) === i))
  assert.ok(spec.pathDirs.includes('/usr/bin') && spec.pathDirs.includes('/bin'))
  assert.equal(new Set(spec.pathDirs).size, spec.pathDirs.length, 'no folder twice')
  assert.ok(!spec.pathDirs.includes('/opt/homebrew/bin'), 'Homebrew folders only on macOS')
  assert.equal(spec.home, null, 'no DUCTOR_HOME in the environment: the service uses the default home')
  assert.equal(spec.logDir, '/home/u/.ductor/logs')
})

test('DUCTOR_HOME in the environment goes into the spec; macOS gets Homebrew\'s folders', async () => {
  const spec = await buildServiceSpec({ env: { DUCTOR_HOME: 'x', PATH: '' }, userHome: '/Users/u', platform: 'darwin', config: completeConfig({}), home: '/srv/home' })
  assert.equal(spec.home, '/srv/home')
  assert.ok(spec.pathDirs.includes('/opt/homebrew/bin'))
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkForUpdate, compareVersions, installKind, installVersion, registryFromEnv } from '../../src/ops/upgrade.ts'
import { consumeUpgradeNotice, upgradeMarkerPath, writeUpgradeMarker } from '../../src/ops/upgrade-notice.ts'
import { upgrade, type UpgradeDeps } from '../../src/cli/upgrade.ts'
import type { ServiceManager, ServiceStatus } from '../../src/ops/service-manager.ts'
import { tempDir } from '../helper.ts'
import { freePort, json, localServer, recordingRunner } from './helpers.ts'

test('versions compare as semver: numbers numerically, a pre-release before its release', () => {
  const ordered = ['0.1.0', '0.1.1', '0.2.0-alpha', '0.2.0-alpha.2', '0.2.0-alpha.10', '0.2.0-beta', '0.2.0', '0.10.0', '1.0.0']
  for (let i = 0; i < ordered.length - 1; i++) {
    assert.ok(compareVersions(ordered[i] as string, ordered[i + 1] as string) < 0, `${ordered[i]} < ${ordered[i + 1]}`)
    assert.ok(compareVersions(ordered[i + 1] as string, ordered[i] as string) > 0)
  }
  assert.equal(compareVersions('v1.2.3', '1.2.3+build.5'), 0)
})

test('checkForUpdate asks <registry>/ductor/latest and says plainly when it cannot', async (t) => {
  let latest: unknown = { name: 'ductor', version: '0.2.0' }
  let status = 200
  const registry = await localServer(t, (req, res) => json(res, status, latest))
  assert.deepEqual(await checkForUpdate('0.1.0', fetch, { registry: registry.url + '/' }), { status: 'ok', current: '0.1.0', latest: '0.2.0', newer: true })
  assert.deepEqual(registry.paths, ['/ductor/latest'])
  assert.deepEqual(await checkForUpdate('0.2.0', fetch, { registry: registry.url }), { status: 'ok', current: '0.2.0', latest: '0.2.0', newer: false })
  assert.equal((await checkForUpdate('0.3.0-beta', fetch, { registry: registry.url }) as { newer: boolean }).newer, false)

  status = 404
  assert.deepEqual(await checkForUpdate('0.1.0', fetch, { registry: registry.url }), { status: 'error', current: '0.1.0', message: `ductor is not published on ${registry.url}` })
  status = 503
  assert.match((await checkForUpdate('0.1.0', fetch, { registry: registry.url }) as { message: string }).message, /answered HTTP 503/)
  status = 200
  latest = { version: 'banana' }
  assert.match((await checkForUpdate('0.1.0', fetch, { registry: registry.url }) as { message: string }).message, /gave no usable version/)

  const closed = `http://127.0.0.1:${await freePort()}`
  assert.deepEqual(await checkForUpdate('0.1.0', fetch, { registry: closed }), { status: 'error', current: '0.1.0', message: `cannot reach the npm registry at ${closed}: connection refused (ECONNREFUSED)` })
  const silent = await localServer(t, () => {})
  assert.match((await checkForUpdate('0.1.0', fetch, { registry: silent.url, timeoutMs: 200 }) as { message: string }).message, /no answer within 200 ms/)
})

test('the registry is the one npm uses (npm_config_registry), else npmjs.org', () => {
  assert.equal(registryFromEnv({}), 'https://registry.npmjs.org')
  assert.equal(registryFromEnv({ npm_config_registry: 'https://npm.example.com/' }), 'https://npm.example.com')
})

test('installVersion runs npm install --global ductor@<exact version> and explains failures', async () => {
  const { runner, calls } = recordingRunner()
  assert.deepEqual(await installVersion(runner, '0.2.0', { inherit: true }), { ok: true })
  assert.deepEqual(calls.map((c) => [c.file, ...c.args]), [['npm', 'install', '--global', 'ductor@0.2.0']])
  assert.equal(calls[0]?.opts.inherit, true)

  const denied = recordingRunner(() => ({ exitCode: 243, stderr: 'npm warn something\nnpm error code EACCES\nnpm error syscall mkdir\n' }))
  const failed = await installVersion(denied.runner, '0.2.0')
  assert.equal(failed.ok, false)
  assert.match((failed as { message: string }).message, /^npm install --global ductor@0\.2\.0 failed: npm error code EACCES \(no permission to write the global npm folder/)
  const missing = recordingRunner(() => ({ exitCode: 127, notFound: true }))
  assert.match((await installVersion(missing.runner, '0.2.0') as { message: string }).message, /npm is not on PATH/)
})

test('a git checkout is told apart from an npm install', async (t) => {
  const dir = await tempDir(t)
  assert.equal(installKind(dir), 'npm')
  await writeFile(join(dir, '.git'), 'gitdir: /elsewhere\n')
  assert.equal(installKind(dir), 'git')
})

test('the upgrade notice is given once after the restart and says whether the new version runs', async (t) => {
  const state = await tempDir(t)
  assert.equal(await consumeUpgradeNotice(state, '0.2.0'), null, 'no marker: a plain start says nothing')
  await writeUpgradeMarker(state, { from: '0.1.0', to: '0.2.0', chat_id: 42, requested_at: '2026-11-25T12:00:00.000Z' })
  assert.deepEqual(JSON.parse(await readFile(upgradeMarkerPath(state), 'utf8')), { from: '0.1.0', to: '0.2.0', chat_id: 42, requested_at: '2026-11-25T12:00:00.000Z' })
  assert.deepEqual(await consumeUpgradeNotice(state, '0.2.0'), { chat_id: 42, upgraded: true, text: 'ductor was upgraded from 0.1.0 to 0.2.0 and is running again.' })
  assert.equal(await consumeUpgradeNotice(state, '0.2.0'), null, 'only once')

  await writeUpgradeMarker(state, { from: '0.1.0', to: '0.2.0', chat_id: null, requested_at: '' })
  const stale = await consumeUpgradeNotice(state, '0.1.0')
  assert.equal(stale?.upgraded, false)
  assert.equal(stale?.chat_id, null)
  assert.match(stale?.text ?? '', /The upgrade to 0\.2\.0 did not take effect: ductor 0\.1\.0 is still running/)

  await writeFile(upgradeMarkerPath(state), '{ broken')
  assert.equal(await consumeUpgradeNotice(state, '0.2.0'), null)
  assert.equal(await consumeUpgradeNotice(state, '0.2.0'), null, 'a broken marker is removed too')
})

function fakeManager (active: boolean): { manager: ServiceManager, restarted: () => number } {
  let restarts = 0
  const status: ServiceStatus = { kind: 'systemd', installed: active, definitionPath: '/u/ductor.service', active, state: active ? 'active (running)' : 'inactive (dead)', pid: active ? 7 : null, restarts: 0, lastExitCode: null, enabled: active }
  const unused = async () => { throw new Error('not used') }
  return {
    manager: { kind: 'systemd', definitionPath: status.definitionPath, render: () => '', install: unused, uninstall: unused, start: unused, stop: unused, logs: unused, status: async () => status, restart: async () => { restarts++ } },
    restarted: () => restarts
  }
}

async function deps (t: import('node:test').TestContext, over: Partial<UpgradeDeps> = {}) {
  const dir = await tempDir(t)
  const registry = await localServer(t, (req, res) => json(res, 200, { version: '0.2.0' }))
  const npm = recordingRunner()
  let out = ''
  const d: UpgradeDeps = {
    current: '0.1.0',
    kind: 'npm',
    root: '/usr/lib/node_modules/ductor',
    registry: registry.url,
    fetch,
    runner: npm.runner,
    stateDir: join(dir, 'state'),
    pidFile: join(dir, 'ductor.pid'),
    manager: null,
    out: (text) => { out += text },
    ...over
  }
  await mkdir(d.stateDir, { recursive: true })
  return { d, npm, out: () => out }
}

test('`ductor upgrade` installs the new version with npm, leaves the notice and restarts the running service', async (t) => {
  const service = fakeManager(true)
  const { d, npm, out } = await deps(t, { manager: service.manager })
  await upgrade(d, { check: false })
  assert.deepEqual(npm.calls.map((c) => [c.file, ...c.args]), [['npm', 'install', '--global', 'ductor@0.2.0']])
  assert.equal(service.restarted(), 1)
  assert.match(out(), /Installed 0\.2\.0 and restarted the service/)
  assert.equal((await consumeUpgradeNotice(d.stateDir, '0.2.0'))?.upgraded, true)
})

test('`ductor upgrade` without a service says how to restart; --check and "up to date" change nothing; a git checkout is refused', async (t) => {
  const { d, npm, out } = await deps(t, { manager: fakeManager(false).manager })
  await upgrade(d, { check: false })
  assert.match(out(), /Installed 0\.2\.0\. Start it with: ductor serve/)

  const check = await deps(t)
  await upgrade(check.d, { check: true })
  assert.equal(check.out(), 'ductor 0.2.0 is available (this is 0.1.0). Upgrade with: ductor upgrade\n')
  assert.deepEqual(check.npm.calls, [])
  const current = await deps(t, { current: '0.2.0' })
  await upgrade(current.d, { check: false })
  assert.match(current.out(), /^ductor 0\.2\.0 is up to date/)
  assert.deepEqual(current.npm.calls, [])

  const git = await deps(t, { kind: 'git', root: '/src/ductor' })
  await assert.rejects(upgrade(git.d, { check: false }), /runs from a git checkout \(\/src\/ductor\); update it there with `git pull && npm ci && npm run build`/)
  assert.deepEqual(git.npm.calls, [])
  assert.equal(npm.calls.length, 1)

  const offline = await deps(t, { registry: `http://127.0.0.1:${await freePort()}` })
  await assert.rejects(upgrade(offline.d, { check: true }), /^Error: cannot check for updates: cannot reach the npm registry at .*connection refused.*To upgrade by hand, install the new version the way you installed this one .*npm install --global \.\/ductor-<version>\.tgz/)
  const offlineGit = await deps(t, { kind: 'git', root: '/src/ductor', registry: `http://127.0.0.1:${await freePort()}` })
  await assert.rejects(upgrade(offlineGit.d, { check: false }), /To upgrade by hand, this ductor runs from a git checkout \(\/src\/ductor\): update it there with `git pull && npm ci && npm run build`/)
  assert.deepEqual(offlineGit.npm.calls, [])
})

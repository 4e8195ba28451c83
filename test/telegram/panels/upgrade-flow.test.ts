import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../../helper.ts'
import type { UpdateCheck } from '../../../src/ops/upgrade.ts'
import { consumeUpgradeNotice } from '../../../src/ops/upgrade-notice.ts'
import { performUpgrade, upgradeOffer, UPGRADE_DATA, type UpgradeFlowDeps } from '../../../src/telegram/panels/upgrade-flow.ts'

function deps (stateDir: string, check: UpdateCheck, over: Partial<UpgradeFlowDeps> = {}): UpgradeFlowDeps & { installed: string[] } {
  const installed: string[] = []
  return { current: '0.1.0', check: async () => check, install: async (v) => { installed.push(v); return { ok: true } }, kind: 'npm', root: '/opt/ductor', stateDir, now: () => Date.UTC(2026, 11, 1), installed, ...over }
}

test('offer: newer version gets a button, up to date and unreachable registry are said plainly', async (t) => {
  const dir = await tempDir(t)
  const newer = await upgradeOffer(deps(dir, { status: 'ok', current: '0.1.0', latest: '0.2.0', newer: true }))
  assert.match(newer.html, /ductor <b>0\.2\.0<\/b> is available \(this is 0\.1\.0\)/)
  assert.deepEqual(newer.keyboard, [[{ text: 'Upgrade to 0.2.0', callback_data: UPGRADE_DATA }]])
  const same = await upgradeOffer(deps(dir, { status: 'ok', current: '0.1.0', latest: '0.1.0', newer: false }))
  assert.equal(same.html, 'ductor 0.1.0 is up to date (latest: 0.1.0).')
  assert.deepEqual(same.keyboard, [])
  const down = await upgradeOffer(deps(dir, { status: 'error', current: '0.1.0', message: 'cannot reach the npm registry at http://127.0.0.1:9: connection refused' }))
  assert.match(down.html, /^Cannot check for updates: cannot reach the npm registry/)
  const git = await upgradeOffer(deps(dir, { status: 'ok', current: '0.1.0', latest: '0.2.0', newer: true }, { kind: 'git' }))
  assert.match(git.html, /git checkout/)
  assert.deepEqual(git.keyboard, [])
})

test('perform: installs the latest, leaves the marker for this chat, asks for a restart', async (t) => {
  const dir = await tempDir(t)
  const d = deps(dir, { status: 'ok', current: '0.1.0', latest: '0.2.0', newer: true })
  const done = await performUpgrade(d, 42)
  assert.equal(done.restart, true)
  assert.deepEqual(d.installed, ['0.2.0'])
  assert.equal(JSON.parse(await readFile(join(dir, 'upgrade.json'), 'utf8')).chat_id, 42)
  const notice = await consumeUpgradeNotice(dir, '0.2.0')
  assert.equal(notice?.upgraded, true)
})

test('perform: a failed install keeps running and leaves no marker', async (t) => {
  const dir = await tempDir(t)
  const d = deps(dir, { status: 'ok', current: '0.1.0', latest: '0.2.0', newer: true }, { install: async () => ({ ok: false, message: 'npm is not on PATH' }) })
  const done = await performUpgrade(d, 42)
  assert.equal(done.restart, false)
  assert.match(done.html, /The upgrade failed: npm is not on PATH/)
  assert.equal(await consumeUpgradeNotice(dir, '0.2.0'), null)
})

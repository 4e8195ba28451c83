import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, spawnService, tempDir, ductor } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

const env = (home: string) => ({ DUCTOR_HOME: home, DUCTOR_PORT: '0', PATH: process.env['PATH'] })

test('`ductor serve` on an empty home seeds it, serves /health, and stops with exit 0 on SIGTERM', async (t) => {
  const home = await tempDir(t)
  const served = await spawnService(t, env(home), { supervisor: true })
  const info = await served.up()
  const res = await fetch(`${info.url}/health`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { status: 'ok' })
  for (const file of ['config/config.json', 'workspace/CLAUDE.md', 'workspace/AGENTS.md', 'workspace/memory_system/MAINMEMORY.md']) {
    await access(join(home, file))
  }
  const config = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8'))
  assert.equal(config.cli_timeout, 600)

  const status = await ductor(['status', '--json'], env(home))
  assert.equal(status.code, 0)
  const json = JSON.parse(status.stdout) as Record<string, unknown>
  const picked = Object.fromEntries(['running', 'healthy', 'pid', 'url', 'admin_url', 'home', 'telegram', 'provider', 'model', 'docker', 'errors'].map((k) => [k, json[k]]))
  assert.deepEqual(picked, { running: true, healthy: true, pid: info.pid, url: info.url, admin_url: info.admin_url, home, telegram: 'off (no bot token)', provider: 'claude', model: 'opus', docker: 'off (the CLIs run on this machine)', errors: 0 })
  assert.equal(typeof json['uptime_seconds'], 'number')
  // The human form, as the Python version shows it: uptime, model, the CLIs, Docker, errors, paths.
  const human = (await ductor(['status'], env(home))).stdout
  assert.match(human, /^ductor is running \(pid \d+\), up \d+ (s|min)\n {2}version {4}\S+\n/)
  for (const line of [/\n {2}model {6}claude · opus\n/, /\n {2}claude {5}(not installed|installed)/, /\n {2}codex {6}(not installed|installed)/, /\n {2}docker {5}off/, /\n {2}errors {5}0 in logs\/ductor\.log since the start\n/, new RegExp(`\\n {4}workspace {2}${join(home, 'workspace').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`)]) assert.match(human, line)

  const second = await runCli(['serve', '--no-supervisor'], env(home))
  assert.equal(second.code, 75, 'another ductor on the home: exit 75 (ADR 43)')
  assert.match(second.stderr, new RegExp(`already running on this home \\(pid ${String(info.pid)}`))

  const stoppedAt = Date.now()
  assert.equal(await served.stop(), 0)
  assert.ok(Date.now() - stoppedAt < 5000, 'stops within 5 s')
  assert.equal(await readServiceInfo(join(home, 'state')), null)
  const after = await ductor(['status'], env(home))
  assert.equal(after.code, 3)
  assert.match(after.stdout, /ductor is not running/)
})

test('an invalid config value stops startup with one line naming the key, a non-zero exit and no stack', async (t) => {
  const home = await tempDir(t)
  await mkdir(join(home, 'config'), { recursive: true })
  await writeFile(join(home, 'config', 'config.json'), JSON.stringify({ cli_timeout: 'soon' }))
  const result = await runCli(['serve'], env(home))
  assert.notEqual(result.code, 0)
  assert.match(result.stderr, /^ductor: config\.json: \/cli_timeout: "soon" is not allowed; expected a number from 1 to 86400\n$/)
  assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at /, 'no stack trace')
})

test('`ductor --version` and `--help` work and an unknown command fails', async () => {
  const version = await ductor(['--version'], {})
  assert.equal(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  const help = await ductor(['--help'], {})
  assert.equal(help.code, 0)
  assert.match(help.stdout, /serve/)
  assert.match(help.stdout, /init/)
  const bad = await ductor(['frobnicate'], {})
  assert.notEqual(bad.code, 0)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, ROOT, ductor } from '../helper.ts'
import { fakeExecutable } from '../ops/helpers.ts'

// `ductor service` on Linux against a fake `systemctl` (and `journalctl`) that records its argv:
// the real system is never touched. HOME is a temporary directory.
const FAKE_SYSTEMCTL = `printf '%s\\n' "$*" >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then echo "$FAKE_FAIL" >&2; exit 1; fi
case "$*" in *" show "*) printf 'LoadState=loaded\\nActiveState=active\\nSubState=running\\nUnitFileState=enabled\\nMainPID=4321\\nNRestarts=0\\nExecMainStatus=0\\n' ;; esac
exit 0`

async function setup (t: import('node:test').TestContext) {
  const dir = await tempDir(t)
  const bin = join(dir, 'bin')
  await fakeExecutable(bin, 'systemctl', FAKE_SYSTEMCTL)
  await fakeExecutable(bin, 'journalctl', 'printf "journal %s\\n" "$*"')
  const log = join(dir, 'argv.log')
  const env = {
    HOME: join(dir, 'home'),
    DUCTOR_HOME: join(dir, 'ductor-home'),
    PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    XDG_CONFIG_HOME: '',
    XDG_RUNTIME_DIR: '/run/user/test',
    FAKE_LOG: log
  }
  const calls = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean)
  return { dir, env, calls, unit: join(dir, 'home', '.config', 'systemd', 'user', 'ductor.service') }
}

test('`ductor service install` writes the unit under ~/.config/systemd/user, enables and starts it; status and uninstall follow', async (t) => {
  const { env, calls, unit } = await setup(t)
  const install = await ductor(['service', 'install'], env)
  assert.equal(install.code, 0, install.stderr)
  assert.match(install.stdout, new RegExp(`Installed the systemd user unit: ${unit.replace(/[.]/g, '\\.')}`))
  const text = await readFile(unit, 'utf8')
  assert.ok(text.includes(`ExecStart=${process.execPath} ${join(ROOT, 'bin', 'ductor.js')} serve --no-supervisor\n`))
  assert.ok(text.includes(`Environment="DUCTOR_HOME=${env.DUCTOR_HOME}"`), 'the home given in DUCTOR_HOME is the service\'s home')
  assert.deepEqual(await calls(), ['--user daemon-reload', '--user enable ductor.service', '--user restart ductor.service'])

  const status = await ductor(['service', 'status'], env)
  assert.equal(status.code, 0)
  assert.match(status.stdout, /^ductor service \(systemd\): active \(running\), pid 4321, starts at boot$/m)
  const json = await ductor(['service', 'status', '--json'], env)
  assert.equal(JSON.parse(json.stdout).active, true)

  const logs = await ductor(['service', 'logs', '-n', '7'], env)
  assert.equal(logs.stdout, 'journal --user -u ductor.service -n 7 --no-pager -o cat\n')

  const removed = await ductor(['service', 'uninstall'], env)
  assert.equal(removed.code, 0, removed.stderr)
  assert.match(removed.stdout, /Stopped ductor and removed .*ductor\.service\. The home .* is kept\./)
  await assert.rejects(access(unit))
  assert.ok((await calls()).includes('--user disable --now ductor.service'))
})

test('`ductor service install --print` shows the unit and changes nothing', async (t) => {
  const { env, calls, unit } = await setup(t)
  const printed = await ductor(['service', 'install', '--print'], env)
  assert.equal(printed.code, 0, printed.stderr)
  assert.match(printed.stdout, /^\[Service\]$/m)
  assert.match(printed.stdout, /^Restart=always$/m)
  await assert.rejects(access(unit))
  assert.deepEqual(await calls(), [])
})

test('when systemctl --user cannot work, the command fails with one line that says what to do', async (t) => {
  const { env } = await setup(t)
  const result = await ductor(['service', 'start'], { ...env, FAKE_FAIL: 'Failed to connect to bus: No medium found' })
  assert.equal(result.code, 1)
  assert.match(result.stderr, /^ductor: systemctl --user cannot reach .*'s systemd \(Failed to connect to bus: No medium found\)\. .*enable-linger/)
  assert.equal(result.stderr.trim().split('\n').length, 1, 'one line')
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
  const notInstalled = await ductor(['service', 'restart'], env)
  assert.equal(notInstalled.code, 1)
  assert.match(notInstalled.stderr, /not installed as a service .*run: ductor service install/)
})

test('`ductor service uninstall` removes the unit file even when systemd cannot be reached, and says what it could not do', async (t) => {
  const { env, unit } = await setup(t)
  assert.equal((await ductor(['service', 'install', '--no-start'], env)).code, 0)
  await access(unit)
  const removed = await ductor(['service', 'uninstall'], { ...env, FAKE_FAIL: 'Failed to connect to bus: No medium found' })
  assert.equal(removed.code, 0, removed.stderr)
  await assert.rejects(access(unit), 'the unit file is gone, so nothing starts it at the next login')
  assert.match(removed.stdout, /^Removed .*ductor\.service\. Note: systemctl --user cannot reach .* So the unit was not stopped or disabled; if a ductor it started still runs, stop it/)
})

test('`ductor service logs` never prints nothing: an empty journal falls back to logs/ductor.log, no log at all is an error', async (t) => {
  const { dir, env } = await setup(t)
  const bin = join(dir, 'bin')
  // A journal without entries for the unit, as in a container without journald.
  await fakeExecutable(bin, 'journalctl', 'echo "-- No entries --"; exit 0')
  const none = await ductor(['service', 'logs'], env)
  assert.equal(none.code, 1)
  assert.match(none.stderr, /^ductor: no logs yet: the journal has no lines for ductor\.service, and .*ductor\.log does not exist/)

  await mkdir(join(env.DUCTOR_HOME, 'logs'), { recursive: true })
  await writeFile(join(env.DUCTOR_HOME, 'logs', 'ductor.log'), ['one', 'two', 'three'].map((m) => JSON.stringify({ msg: m })).join('\n') + '\n')
  const fallback = await ductor(['service', 'logs', '-n', '2'], env)
  assert.equal(fallback.code, 0, fallback.stderr)
  assert.equal(fallback.stdout, '{"msg":"two"}\n{"msg":"three"}\n')
  assert.match(fallback.stderr, /the journal has no lines for ductor\.service; the last 2 lines of .*ductor\.log:/)
})

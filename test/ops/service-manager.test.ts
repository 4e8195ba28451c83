import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServiceManager, ServiceError, type ServiceContext } from '../../src/ops/service-manager.ts'
import { userBusEnv } from '../../src/ops/service-systemd.ts'
import type { ServiceSpec } from '../../src/ops/service-spec.ts'
import type { CommandResult } from '../../src/ops/runner.ts'
import { tempDir } from '../helper.ts'
import { recordingRunner, type RecordedCall } from './helpers.ts'

async function setup (t: import('node:test').TestContext, platform: NodeJS.Platform, answer?: (call: RecordedCall) => Partial<CommandResult> | undefined) {
  const dir = await tempDir(t)
  const userHome = join(dir, 'home')
  const { runner, calls } = recordingRunner(answer)
  const ctx: ServiceContext = {
    platform,
    env: { XDG_RUNTIME_DIR: '/run/user/1000' },
    userHome,
    uid: 1000,
    user: 'alice',
    runner,
    logDir: join(userHome, '.ductor', 'logs'),
    lingerDir: join(dir, 'linger'),
    runtimeRoot: join(dir, 'run')
  }
  const spec: ServiceSpec = { nodePath: '/usr/bin/node', entry: '/opt/ductor/bin/ductor.js', home: null, pathDirs: ['/usr/bin'], logDir: ctx.logDir }
  return { dir, ctx, spec, calls, manager: createServiceManager(ctx) }
}

const argv = (calls: RecordedCall[]) => calls.map((c) => [c.file, ...c.args].join(' '))

test('systemd: install writes the unit, reloads, enables and (re)starts it, and hints at linger', async (t) => {
  const { manager, calls, spec, ctx, dir } = await setup(t, 'linux')
  const result = await manager.install(spec, { start: true })
  const unitPath = join(ctx.userHome, '.config', 'systemd', 'user', 'ductor.service')
  assert.equal(result.path, unitPath)
  assert.match(await readFile(unitPath, 'utf8'), /^ExecStart=\/usr\/bin\/node \/opt\/ductor\/bin\/ductor\.js serve --no-supervisor$/m)
  assert.deepEqual(argv(calls), ['systemctl --user daemon-reload', 'systemctl --user enable ductor.service', 'systemctl --user restart ductor.service'])
  assert.equal(result.notes.length, 1)
  assert.match(result.notes[0] ?? '', /sudo loginctl enable-linger alice/)

  await mkdir(join(dir, 'linger'), { recursive: true })
  await writeFile(join(dir, 'linger', 'alice'), '')
  calls.length = 0
  const again = await manager.install(spec, { start: false })
  assert.deepEqual(again.notes, [], 'no linger hint once linger is on')
  assert.deepEqual(argv(calls), ['systemctl --user daemon-reload', 'systemctl --user enable ductor.service'], '--no-start does not start it')
})

test('systemd: without a user bus the error says why and what to do; the unit is still written', async (t) => {
  const { manager, spec, ctx } = await setup(t, 'linux', () => ({ exitCode: 1, stderr: 'Failed to connect to bus: No medium found\n' }))
  await assert.rejects(manager.install(spec, { start: true }), (err: unknown) => {
    assert.ok(err instanceof ServiceError)
    assert.match(err.message, /cannot reach alice's systemd \(Failed to connect to bus: No medium found\)/)
    assert.match(err.message, /loginctl enable-linger alice/)
    assert.match(err.message, /the unit was written to .*ductor\.service/)
    return true
  })
  await access(join(ctx.userHome, '.config', 'systemd', 'user', 'ductor.service'))
})

test('systemd: a system without systemctl gets a plain sentence', async (t) => {
  const { manager } = await setup(t, 'linux', () => ({ exitCode: 127, notFound: true }))
  await assert.rejects(manager.start(), /systemctl is not installed: this system does not run systemd/)
})

test('systemd: the user bus is found from a sudo/su shell when the user manager runs', async (t) => {
  const { ctx, calls, dir } = await setup(t, 'linux')
  await mkdir(join(dir, 'run', '1000'), { recursive: true })
  await createServiceManager({ ...ctx, env: {} }).start()
  assert.deepEqual(calls[0]?.opts.env, { XDG_RUNTIME_DIR: join(dir, 'run', '1000') }, 'systemctl gets the user\'s runtime directory')
  assert.deepEqual(userBusEnv({}, 1000, true, '/run/user'), { XDG_RUNTIME_DIR: '/run/user/1000' })
  assert.deepEqual(userBusEnv({}, 1000, false, '/run/user'), {}, 'no runtime dir: nothing to point at')
  assert.deepEqual(userBusEnv({ XDG_RUNTIME_DIR: '/x' }, 1000, true, '/run/user'), {}, 'an existing value is kept')
})

test('systemd: status reads systemctl show; start, stop, restart, logs and uninstall call the right commands', async (t) => {
  let show = 'LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\nMainPID=4242\nNRestarts=3\nExecMainStatus=0\n'
  const { manager, calls, spec, ctx } = await setup(t, 'linux', (c) => c.args.includes('show') ? { stdout: show } : undefined)
  await manager.install(spec, { start: false })
  assert.deepEqual(await manager.status(), {
    kind: 'systemd', installed: true, definitionPath: manager.definitionPath, active: true, state: 'active (running)', pid: 4242, restarts: 3, lastExitCode: 0, enabled: true
  })
  show = 'LoadState=loaded\nActiveState=failed\nSubState=failed\nUnitFileState=enabled\nMainPID=0\nNRestarts=0\nExecMainStatus=2\n'
  const failed = await manager.status()
  assert.equal(failed.state, 'failed (exit 2)')
  assert.equal(failed.pid, null)

  calls.length = 0
  await manager.start()
  await manager.stop()
  await manager.restart()
  await manager.logs({ lines: 50, follow: true })
  assert.deepEqual(argv(calls), [
    'systemctl --user start ductor.service',
    'systemctl --user stop ductor.service',
    'systemctl --user restart ductor.service',
    'journalctl --user -u ductor.service -n 50 --no-pager -o cat -f'
  ])
  assert.equal(calls[3]?.opts.inherit, true, 'logs go straight to the terminal')

  calls.length = 0
  assert.deepEqual(await manager.uninstall(), { removed: true, note: null })
  assert.deepEqual(argv(calls), ['systemctl --user disable --now ductor.service', 'systemctl --user daemon-reload'])
  await assert.rejects(access(join(ctx.userHome, '.config', 'systemd', 'user', 'ductor.service')))
})

const PRINT_RUNNING = `gui/501/dev.ductor = {
\tactive count = 1
\tpath = /Users/alice/Library/LaunchAgents/dev.ductor.plist
\tstate = running
\tprogram = /usr/local/bin/node
\truns = 3
\tpid = 812
\tlast exit code = 42
}
`

test('launchd: install writes the plist and bootstraps it; status parses launchctl print', async (t) => {
  let loaded = false
  const { manager, calls, spec, ctx } = await setup(t, 'darwin', (c) => {
    if (c.args[0] === 'print') return loaded ? { stdout: PRINT_RUNNING } : { exitCode: 113, stderr: 'Could not find service "dev.ductor" in domain for user gui: 1000' }
    if (c.args[0] === 'bootstrap') loaded = true
    if (c.args[0] === 'bootout') loaded = false
    return undefined
  })
  const plist = join(ctx.userHome, 'Library', 'LaunchAgents', 'dev.ductor.plist')
  const result = await manager.install(spec, { start: true })
  assert.equal(result.path, plist)
  assert.match(await readFile(plist, 'utf8'), /<string>--no-supervisor<\/string>/)
  await access(ctx.logDir)
  assert.deepEqual(argv(calls), ['launchctl print gui/1000/dev.ductor', `launchctl bootstrap gui/1000 ${plist}`])

  assert.deepEqual(await manager.status(), {
    kind: 'launchd', installed: true, definitionPath: plist, active: true, state: 'running', pid: 812, restarts: 2, lastExitCode: 42, enabled: true
  })
  calls.length = 0
  await manager.restart()
  await manager.stop()
  assert.equal((await manager.status()).state, 'not loaded')
  await manager.start()
  assert.deepEqual(argv(calls).filter((c) => !c.includes(' print ')), [
    'launchctl kickstart -k gui/1000/dev.ductor',
    'launchctl bootout gui/1000/dev.ductor',
    `launchctl bootstrap gui/1000 ${plist}`
  ])

  await mkdir(ctx.logDir, { recursive: true })
  await writeFile(join(ctx.logDir, 'ductor.log'), '{}\n')
  calls.length = 0
  await manager.logs({ lines: 20, follow: false })
  assert.deepEqual(argv(calls), [`tail -n 20 ${join(ctx.logDir, 'ductor.log')}`])

  calls.length = 0
  assert.deepEqual(await manager.uninstall(), { removed: true, note: null })
  assert.deepEqual(argv(calls).filter((c) => !c.includes(' print ')), ['launchctl bootout gui/1000/dev.ductor'])
  await assert.rejects(access(plist))
})

test('other platforms get a clear refusal', async (t) => {
  await assert.rejects(async () => (await setup(t, 'win32')).manager, /supports Linux \(systemd\) and macOS \(launchd\), not win32/)
})

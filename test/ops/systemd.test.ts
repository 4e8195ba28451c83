import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { renderSystemdUnit, systemdUnitPath } from '../../src/ops/systemd.ts'
import { RESTART_EXIT_CODE, CONFIG_ERROR_EXIT_CODE, ALREADY_RUNNING_EXIT_CODE } from '../../src/exit-codes.ts'
import type { ServiceSpec } from '../../src/ops/service-spec.ts'
import { tempDir, ROOT } from '../helper.ts'

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  nodePath: process.execPath,
  entry: join(ROOT, 'bin', 'ductor.js'),
  home: null,
  pathDirs: ['/opt/node/bin', '/home/u/.local/bin', '/usr/bin', '/bin'],
  logDir: '/home/u/.ductor/logs',
  ...over
})

/** `systemd-analyze verify` when this machine has it: exit 0 and not one warning. */
function verifyIfAvailable (unitFile: string): void {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined) return
  const result = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stderr.trim(), '', 'systemd-analyze has no complaint')
}

test('the unit runs this node and bin/ductor.js without ductor\'s own supervisor, and systemd restarts it', async (t) => {
  const unit = renderSystemdUnit(spec())
  const lines = unit.split('\n')
  assert.ok(lines.includes(`ExecStart=${process.execPath} ${join(ROOT, 'bin', 'ductor.js')} serve --no-supervisor`))
  assert.ok(lines.includes('Restart=always'))
  assert.ok(lines.includes(`RestartForceExitStatus=${RESTART_EXIT_CODE}`), 'exit 42 (/restart, upgrade) restarts')
  assert.ok(lines.includes(`RestartPreventExitStatus=${CONFIG_ERROR_EXIT_CODE} ${ALREADY_RUNNING_EXIT_CODE}`), 'a config error, or another ductor on the home, does not loop')
  assert.match(unit, /^KillMode=(mixed|control-group)$/m, 'the CLIs\' children die with the service')
  const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])
  assert.ok(stop > 10 && stop <= 90, `TimeoutStopSec ${stop} leaves the 10 s graceful close room and stays short`)
  assert.ok(lines.includes('Environment="PATH=/opt/node/bin:/home/u/.local/bin:/usr/bin:/bin"'))
  assert.ok(!unit.includes('DUCTOR_HOME'), 'no DUCTOR_HOME unless one was given')
  assert.ok(lines.includes('WantedBy=default.target'))
  assert.match(unit, /^\[Unit\]$[\s\S]*^\[Service\]$[\s\S]*^\[Install\]$/m)

  const dir = await tempDir(t)
  const file = join(dir, 'ductor.service')
  await writeFile(file, unit)
  verifyIfAvailable(file)
})

test('DUCTOR_HOME is set when given, and paths with spaces, % and $ are escaped for systemd', async (t) => {
  const dir = await tempDir(t)
  const odd = join(dir, 'my node 100%$x')
  await mkdir(odd)
  await symlink(process.execPath, join(odd, 'node'))
  const unit = renderSystemdUnit(spec({ nodePath: join(odd, 'node'), entry: join(odd, 'ductor.js'), home: '/srv/ductor home/50%', pathDirs: [odd, '/usr/bin'] }))
  const escapedDir = odd.replace(/%/g, '%%')
  assert.ok(unit.includes(`ExecStart="${escapedDir}/node" "${escapedDir.replace(/\$/g, '$$$$')}/ductor.js" serve --no-supervisor\n`), 'systemd expands $ in arguments, not in the program path')
  assert.ok(unit.includes('Environment="DUCTOR_HOME=/srv/ductor home/50%%"'))
  assert.ok(unit.includes(`Environment="PATH=${escapedDir}:/usr/bin"`), 'Environment= takes $ literally; only % is a specifier')
  const file = join(dir, 'ductor.service')
  await writeFile(file, unit)
  verifyIfAvailable(file)
})

test('a path with a line break cannot be put in a unit', () => {
  assert.throws(() => renderSystemdUnit(spec({ home: '/x\n[Service]\nExecStartPre=/bin/evil' })), /line break/)
})

test('the unit goes to ~/.config/systemd/user, or under an absolute $XDG_CONFIG_HOME', () => {
  assert.equal(systemdUnitPath({}, '/home/u'), '/home/u/.config/systemd/user/ductor.service')
  assert.equal(systemdUnitPath({ XDG_CONFIG_HOME: '/cfg' }, '/home/u'), '/cfg/systemd/user/ductor.service')
  assert.equal(systemdUnitPath({ XDG_CONFIG_HOME: 'relative' }, '/home/u'), '/home/u/.config/systemd/user/ductor.service')
})

// A `ductor.pid` left behind by a service killed -9, whose pid another process now has (breakit F2,
// ADR 43): `ductor status` says it is not running (exit 3), `ductor stop` and `ductor restart` never
// signal that process, and the service takes the stale lock over. Also with a lock of the older
// format (the pid only) and with `1` (init) in it. And a lock of the older format naming another
// `ductor` command (ADR 49): only a ductor service holds it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ALREADY_RUNNING_EXIT_CODE } from '../../src/exit-codes.ts'
import { builtDist, ductor, fakeClis, ROOT, runCli, spawnService, tempDir, waitFor } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

function aliveNow (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('a stale ductor.pid naming another process: status says not running, stop and restart leave that process alone, the service takes the lock over', { timeout: 300_000 }, async (t) => {
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', HOME: await tempDir(t), ...bin.env }
  const lockPath = join(home, 'ductor.pid')

  // A service killed -9 leaves its lock (and state/service.json) behind.
  const served = await spawnService(t, env)
  const killed = await served.up(120_000)
  process.kill(-(served.child.pid as number), 'SIGKILL')
  await served.exited
  const lock = await readFile(lockPath, 'utf8')
  const [lockPid, mark = ''] = lock.split('\n')
  assert.equal(lockPid, String(killed.pid))
  assert.match(mark, /^\{"start":"\d+","boot":"[^"]*"\}$/, 'the lock names the process by its start time too')

  // Its pid now belongs to an unrelated process (simulated: that process's pid, the dead service's start time).
  const other = spawn('sleep', ['300'], { stdio: 'ignore', detached: true })
  t.after(() => { try { process.kill(other.pid as number, 'SIGKILL') } catch {} })
  const otherPid = other.pid as number
  const serviceJson = join(home, 'state', 'service.json')
  const info = JSON.parse(await readFile(serviceJson, 'utf8')) as Record<string, unknown>
  await writeFile(serviceJson, JSON.stringify({ ...info, pid: otherPid }))
  // The first case through the `ductor` binary, the others through the same command code in this process (cheaper).
  for (const [what, text, cli] of [['reused pid', `${otherPid}\n${mark}\n`, runCli], ['older lock format', `${otherPid}\n`, ductor], ['init', '1\n', ductor]] as const) {
    await writeFile(lockPath, text)
    const status = await cli(['status'], env)
    assert.equal(status.code, 3, `${what}: ${status.stdout}${status.stderr}`)
    assert.match(status.stdout, /^ductor is not running\n/, what)
    const stop = await cli(['stop'], env)
    assert.equal(stop.code, 0, `${what}: ${stop.stderr}`)
    assert.match(stop.stdout, /^ductor is not running \(home /, what)
    assert.ok(aliveNow(otherPid), `${what}: the other process was not signalled`)
  }

  // `ductor restart` starts the service (it takes the stale lock over) and leaves the other process alone.
  await writeFile(lockPath, `${otherPid}\n${mark}\n`)
  const restart = await runCli(['restart'], env, { timeoutMs: 150_000 })
  assert.equal(restart.code, 0, restart.stderr)
  assert.match(restart.stdout, /ductor is running again \(pid \d+, http:\/\/127\.0\.0\.1:\d+\); it runs in the background/)
  const started = await readServiceInfo(join(home, 'state'))
  assert.ok(started !== null && started.pid !== otherPid)
  // Should the test fail from here: its supervisor first (it would start the service again), then the service.
  const supervisor = Number((await readFile(`/proc/${started.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1])
  t.after(() => { for (const pid of [supervisor, started.pid]) { try { process.kill(pid, 'SIGKILL') } catch {} } })
  assert.ok(aliveNow(otherPid), 'restart did not signal the other process')
  assert.equal((await readFile(lockPath, 'utf8')).split('\n')[0], String(started.pid), 'the new service holds the lock')
  const running = await runCli(['status'], env)
  assert.equal(running.code, 0, running.stdout)
  assert.match(running.stdout, new RegExp(`^ductor is running \\(pid ${started.pid}\\)`))
  const stop = await runCli(['stop'], env)
  assert.match(stop.stdout, new RegExp(`^Stopped ductor \\(pid ${started.pid}\\)`))
  await waitFor(() => aliveNow(started.pid) ? undefined : true, 20_000, 'the service stopped')
  assert.ok(aliveNow(otherPid))
})

test('an older lock (the pid only) naming another ductor command, not a service: the service starts, status, stop and doctor ignore it; naming a service, it holds (ADR 49)', { timeout: 300_000 }, async (t) => {
  await builtDist()
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  // `ductor` as npm installs it (a link to bin/ductor, which execs node …/ductor.js), and a journalctl that follows forever.
  const dir = await tempDir(t)
  const command = join(dir, 'ductor')
  await symlink(join(ROOT, 'bin', 'ductor'), command)
  await writeFile(join(dir, 'journalctl'), '#!/bin/sh\nexec sleep 300\n')
  await chmod(join(dir, 'journalctl'), 0o755)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', HOME: await tempDir(t), ...bin.env, PATH: `${dir}:${bin.env['PATH'] ?? ''}` }
  const lockPath = join(home, 'ductor.pid')

  // `ductor service logs -f`, left running in another terminal; after an upgrade and a reboot the old lock names its pid.
  const logs = spawn(command, ['service', 'logs', '-f'], { env: { ...process.env, ...env }, stdio: 'ignore', detached: true })
  t.after(() => { try { process.kill(-(logs.pid as number), 'SIGKILL') } catch {} })
  const logsPid = logs.pid as number
  await waitFor(async () => (await readFile(`/proc/${logsPid}/cmdline`, 'utf8').catch(() => '')).includes('ductor.js') ? true : undefined, 20_000, 'ductor service logs -f to run (bin/ductor execs node)')
  await writeFile(lockPath, `${logsPid}\n`)
  const status = await runCli(['status'], env)
  assert.equal(status.code, 3, status.stdout + status.stderr)
  assert.match(status.stdout, /^ductor is not running\n/)
  const stop = await ductor(['stop'], env)
  assert.match(stop.stdout, /^ductor is not running \(home /)
  const doctor = await ductor(['doctor'], env)
  assert.doesNotMatch(doctor.stdout, /holds the lock/, doctor.stdout)
  assert.ok(aliveNow(logsPid), 'ductor service logs -f was not signalled')

  // The service starts (the lock is stale) as `ductor serve --no-supervisor`.
  const served = await spawnService(t, env, { command: [command] })
  const info = await served.up(120_000)
  assert.equal((await readFile(lockPath, 'utf8')).split('\n')[0], String(info.pid), 'the service took the lock over')
  assert.ok(aliveNow(logsPid))

  // The same service with the lock and state/service.json an older version writes (the pid only): it holds the home.
  await writeFile(lockPath, `${info.pid}\n`)
  const serviceJson = join(home, 'state', 'service.json')
  const { pid_start: _start, boot_id: _boot, ...older } = JSON.parse(await readFile(serviceJson, 'utf8')) as Record<string, unknown>
  await writeFile(serviceJson, JSON.stringify(older))
  const running = await ductor(['status'], env)
  assert.equal(running.code, 0, running.stdout + running.stderr)
  assert.match(running.stdout, new RegExp(`^ductor is running \\(pid ${info.pid}\\)`))
  const second = await spawnService(t, env, { command: [command] })
  assert.equal(await second.exited, ALREADY_RUNNING_EXIT_CODE, second.output())
  assert.match(second.stderr(), new RegExp(`another ductor is already running on this home \\(pid ${info.pid}, lock `))
  const stopped = await ductor(['stop'], env)
  assert.match(stopped.stdout, new RegExp(`^Stopped ductor \\(pid ${info.pid}\\)`))
  assert.equal(await served.exited, 0, served.output().slice(-2000))
  assert.ok(aliveNow(logsPid), 'ductor service logs -f still runs')
})

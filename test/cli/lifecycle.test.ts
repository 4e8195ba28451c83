import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import { fakeClis, spawnService, tempDir, ductor, type SpawnOptions } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'
import { isAlive } from '../../src/home/pid-lock.ts'

/**
 * The Python version's lifecycle commands (issue 17): `ductor stop`, `restart`, `uninstall`,
 * `reset`/`onboarding`, `-v/--verbose` and `-V/--version`. HOME is a temp dir, so no real
 * systemd/launchd service is ever looked at or touched.
 */

async function serve (t: Parameters<typeof tempDir>[0], opts: SpawnOptions = {}): Promise<{ home: string, env: NodeJS.ProcessEnv, exited: Promise<{ code: number }> }> {
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', HOME: await tempDir(t), ...bin.env }
  const served = await spawnService(t, env, opts)
  await served.up(120_000)
  return { home, env, exited: served.exited.then((code) => ({ code })) }
}

test('-V/--version prints the version, -v/--verbose turns on debug logs, and the help lists the lifecycle commands', { timeout: 300_000 }, async (t) => {
  const version = await ductor(['-V'], {})
  assert.match(version.stdout, /^\d+\.\d+\.\d+/)
  const help = await ductor(['--help'], {})
  for (const name of ['stop', 'restart', 'uninstall', 'reset|onboarding']) assert.match(help.stdout, new RegExp(`\\n\\s+${name.replace('|', '\\|')}\\b`), name)
  assert.match(help.stdout, /-v, --verbose/)
  const { home, env, exited } = await serve(t, { verbose: true })
  const token = (JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { admin: { token: string } }).admin.token
  const info = await readServiceInfo(join(home, 'state'))
  const config = await (await fetch(`${info?.admin_url ?? info?.url ?? ''}/api/config`, { headers: { authorization: `Bearer ${token}` } })).json() as { log_level: string }
  assert.equal(config.log_level, 'DEBUG')
  assert.match((await ductor(['stop'], env)).stdout, /^Stopped ductor \(pid \d+\)/)
  assert.equal((await exited).code, 0)
})

test('ductor stop ends the running service gracefully; a second stop says it is not running', { timeout: 300_000 }, async (t) => {
  const { env, exited } = await serve(t)
  const stop = await ductor(['stop'], env)
  assert.equal(stop.code, 0, stop.stderr)
  assert.match(stop.stdout, /^Stopped ductor \(pid \d+\)\.\n$/)
  assert.equal((await exited).code, 0, 'a clean exit (stores flushed)')
  assert.match((await ductor(['stop'], env)).stdout, /^ductor is not running/)
})

test('ductor restart restarts a supervised service in place, and starts one in the background when none runs', { timeout: 300_000 }, async (t) => {
  const { home, env, exited } = await serve(t, { supervisor: true })
  const before = await readServiceInfo(join(home, 'state'))
  assert.equal(before?.supervised, true)
  const restart = await ductor(['restart'], env)
  assert.equal(restart.code, 0, restart.stderr)
  assert.match(restart.stdout, /^ductor is running again \(pid \d+, http:\/\/127\.0\.0\.1:\d+\)\.\n$/)
  const after = await readServiceInfo(join(home, 'state'))
  assert.notEqual(after?.pid, before?.pid, 'a new service process')
  await ductor(['stop'], env)
  assert.equal((await exited).code, 0, 'the supervisor ends with its service')

  const restarted = await ductor(['restart'], env)
  assert.equal(restarted.code, 0, restarted.stderr)
  assert.match(restarted.stdout, /ductor is running again .* it runs in the background/)
  const background = await readServiceInfo(join(home, 'state'))
  assert.ok(background !== null && isAlive(background.pid))
  const backgroundPid = background.pid
  t.after(() => { try { process.kill(backgroundPid, 'SIGKILL') } catch {} }) // never pid 0: that is this test's own process group
  assert.match((await ductor(['stop'], env)).stdout, /^Stopped ductor/)
})

test('ductor restart on a service whose supervisor was killed stops and starts it (signalled, it would have stopped for good)', { timeout: 300_000 }, async (t) => {
  const { home, env } = await serve(t, { supervisor: true })
  const before = await readServiceInfo(join(home, 'state'))
  assert.ok(before?.supervised === true && typeof before.supervisor_pid === 'number', JSON.stringify(before))
  process.kill(before.supervisor_pid, 'SIGKILL')
  // The service lives on, re-parented.
  const orphaned = Date.now()
  while (isAlive(before.supervisor_pid) && Date.now() - orphaned < 10_000) await new Promise((resolve) => setTimeout(resolve, 50))
  assert.ok(isAlive(before.pid), 'the service outlives its supervisor')
  const restart = await ductor(['restart'], env)
  assert.equal(restart.code, 0, restart.stderr)
  assert.match(restart.stdout, /ductor is running again .* it runs in the background/)
  const after = await readServiceInfo(join(home, 'state'))
  assert.ok(after !== null && after.pid !== before.pid && isAlive(after.pid), 'a new service process')
  const afterPid = after.pid
  t.after(() => { try { process.kill(afterPid, 'SIGKILL') } catch {} }) // never pid 0: that is this test's own process group
  await waitUntil(() => !isAlive(before.pid), 'the old one to stop (it released the lock first)', 20_000)
  assert.match((await ductor(['stop'], env)).stdout, /^Stopped ductor/)
})

test('between a crash and the next start only the supervisor runs: status says so, restart starts the service now through that supervisor, stop ends it for good', { timeout: 300_000 }, async (t) => {
  const port = await freePort()
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: String(port), DUCTOR_ADMIN_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', HOME: await tempDir(t), ...bin.env }
  const served = await spawnService(t, env, { supervisor: true })
  const first = await served.up(120_000)
  const supervisor = (await readServiceInfo(join(home, 'state')))?.supervisor_pid as number
  assert.ok(typeof supervisor === 'number' && isAlive(supervisor))
  // The service crashes, and every start after it fails (its port is taken): the supervisor backs off 1, 2, 4 s …
  const blocker = createServer()
  t.after(() => { blocker.close() })
  process.kill(first.pid, 'SIGKILL')
  await waitUntil(() => !isAlive(first.pid), 'the service to die')
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  await waitUntil(() => served.stderr().includes('ended unexpectedly with exit code 1'), 'a failed start and a backoff')
  const status = await ductor(['status'], env)
  assert.equal(status.code, 3, status.stdout)
  assert.match(status.stdout, new RegExp(`ductor is not running: its supervisor \\(pid ${supervisor}\\) starts it again after a crash`))
  assert.doesNotMatch(status.stdout, /start it with: ductor serve/)
  // The port is free again: restart starts the service now, under the same supervisor (no second one).
  await new Promise<void>((resolve) => blocker.close(() => { resolve() }))
  const restart = await ductor(['restart'], env)
  assert.equal(restart.code, 0, restart.stderr)
  assert.match(restart.stdout, /^ductor is running again \(pid \d+/)
  const back = await readServiceInfo(join(home, 'state'))
  assert.equal(back?.supervisor_pid, supervisor, 'the service runs under the supervisor that was waiting')
  // Crash it again, keep it from starting, and stop during the backoff: the supervisor ends and nothing starts later.
  const crashes = served.stderr().split('ended unexpectedly').length
  process.kill(back?.pid as number, 'SIGKILL')
  await waitUntil(() => !isAlive(back?.pid as number), 'the service to die')
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  await waitUntil(() => served.stderr().split('ended unexpectedly').length > crashes, 'the next backoff')
  const stop = await ductor(['stop'], env)
  assert.equal(stop.code, 0, stop.stderr)
  assert.match(stop.stdout, new RegExp(`^Stopped ductor's supervisor \\(pid ${supervisor}\\)`))
  assert.equal(await served.exited, 0, 'the supervisor ended with 0, without starting the service')
  assert.equal((await readServiceInfo(join(home, 'state'))), null, 'no service runs')
})

test('ductor restart of a supervised service whose new start fails (config.json broken since) says so as soon as the supervisor ends, not after 60 s', { timeout: 300_000 }, async (t) => {
  const { home, env, exited } = await serve(t, { supervisor: true })
  await writeFile(join(home, 'config', 'config.json'), '{"provider": "claude",}\n')
  const started = Date.now()
  const restart = await ductor(['restart'], env)
  assert.equal(restart.code, 1, restart.stdout)
  assert.match(restart.stderr, /did not come back: its supervisor \(pid \d+\) ended, so the new start failed/)
  assert.ok(Date.now() - started < 30_000, `told within 30 s (${Date.now() - started} ms)`)
  assert.equal((await exited).code, 2, 'the supervisor ended with the config error\'s code')
})

test('a supervised start that fails from the first try (its port taken) is found by ductor stop, which ends its supervisor for good', { timeout: 300_000 }, async (t) => {
  const port = await freePort()
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  t.after(() => { blocker.close() })
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: String(port), DUCTOR_ADMIN_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', HOME: await tempDir(t), ...bin.env }
  const served = await spawnService(t, env, { supervisor: true })
  await waitUntil(() => served.stderr().includes('ended unexpectedly with exit code 1'), 'a failed start and a backoff', 120_000)
  const stop = await ductor(['stop'], env)
  assert.match(stop.stdout, /^Stopped ductor's supervisor \(pid \d+\)/, stop.stdout + stop.stderr)
  assert.equal(await served.exited, 0, 'the supervisor ended with 0, without starting the service again')
})

async function freePort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function waitUntil (fn: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('ductor reset (alias onboarding) moves the config aside, keeps the sessions, and runs the setup again', { timeout: 300_000 }, async (t) => {
  const home = await tempDir(t)
  const env = { DUCTOR_HOME: home, HOME: await tempDir(t) }
  assert.equal((await ductor(['init', '--non-interactive', '--token', '111111111:AAHoldoldoldoldoldoldoldoldoldoldold', '--user-id', '5'], env)).code, 0)
  await writeFile(join(home, 'sessions.json'), '{"5":{"chat_id":5,"provider":"claude","model":"opus","created_at":"2026-01-01T00:00:00+00:00","last_active":"2026-01-01T00:00:00+00:00","provider_sessions":{}}}')
  const reset = await ductor(['onboarding', '--non-interactive', '--token', '222222222:AAHnewnewnewnewnewnewnewnewnewnewnew', '--user-id', '7'], env)
  assert.equal(reset.code, 0, reset.stderr)
  assert.match(reset.stdout, /Moved the config to .*config\.json\.bak-/)
  const config = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { telegram_token: string, allowed_user_ids: number[] }
  assert.deepEqual([config.telegram_token, config.allowed_user_ids], ['222222222:AAHnewnewnewnewnewnewnewnewnewnewnew', [7]])
  const backups = (await readdir(join(home, 'config'))).filter((n) => n.startsWith('config.json.bak-'))
  assert.equal(backups.length, 1)
  assert.match(await readFile(join(home, 'config', backups[0] ?? ''), 'utf8'), /111111111:AAHold/)
  assert.match(await readFile(join(home, 'sessions.json'), 'utf8'), /"chat_id":5/)
})

test('ductor uninstall stops ductor and keeps the home; --purge needs --yes, then deletes it', { timeout: 300_000 }, async (t) => {
  const { home, env, exited } = await serve(t)
  const refused = await ductor(['uninstall', '--purge'], env)
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /add --yes to confirm/)
  const kept = await ductor(['uninstall'], env)
  assert.equal(kept.code, 0, kept.stderr)
  assert.match(kept.stdout, /Stopped ductor \(pid \d+\)\.\n[\s\S]*Your home stays in/)
  assert.equal((await exited).code, 0)
  await stat(join(home, 'config', 'config.json'))
  const purged = await ductor(['uninstall', '--purge', '--yes'], env)
  assert.equal(purged.code, 0, purged.stderr)
  await assert.rejects(stat(home))
})

// The CLI spawner process (bin/ductor-spawner.mjs, src/providers/spawner.ts, ADR 0032): its failure
// modes. The runner's ordinary behaviour through it is test/providers/runner.test.ts (its rig spawns
// through a spawner).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { createRig } from './runner-helpers.ts'
import { isProcessAlive } from '../../src/providers/process-group.ts'
import { createSpawner } from '../../src/providers/spawner.ts'
import { packageBinDir } from '../../src/providers/executor.ts'

const SCRIPT = join(packageBinDir(), 'ductor-spawner.mjs')

async function until (what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('spawner killed mid-run: the run fails clearly, its CLI and the CLI\'s children are gone, the next run works', async (t) => {
  const rig = await createRig(t)
  const { handle, events, recordFile } = rig.start({ prompt: '[[hang]] [[grandchild]]', env: { FAKE_CLI_REPLY: 'partial words' } })
  const seen = await rig.recorded(recordFile)
  assert.ok(seen.grandchildPid !== undefined && isProcessAlive(seen.grandchildPid))
  await until('the first streamed event (read from the handed-over pipe)', () => events.length > 0)
  const spawnerPid = rig.spawner?.pid()
  assert.ok(spawnerPid !== undefined)
  process.kill(spawnerPid, 'SIGKILL')
  const outcome = await handle.done
  assert.equal(outcome.status, 'error:killed')
  assert.match(outcome.userMessage ?? '', /spawner process ended unexpectedly/)
  assert.equal(isProcessAlive(seen.pid), false, 'the CLI is gone')
  assert.equal(isProcessAlive(seen.grandchildPid), false, 'what the CLI started is gone')
  assert.deepEqual(rig.registry.list(), [])

  const next = rig.start({ prompt: 'again', env: { FAKE_CLI_REPLY: 'fine again', FAKE_CLI_DELAY_MS: '1' } })
  const after = await next.handle.done
  assert.equal(after.status, 'success')
  assert.equal(after.result?.text, 'fine again')
  assert.notEqual(rig.spawner?.pid(), spawnerPid, 'a new spawner runs it')
})

test('spawner killed while a spawn is on its way: that run fails as not started, the next one runs', async (t) => {
  const rig = await createRig(t)
  // A first run makes the spawner exist; then it is killed right as the second run is asked for.
  assert.equal((await rig.start({ env: { FAKE_CLI_REPLY: 'one', FAKE_CLI_DELAY_MS: '1' } }).handle.done).status, 'success')
  const spawnerPid = rig.spawner?.pid()
  assert.ok(spawnerPid !== undefined)
  const { handle, recordFile } = rig.start({ env: { FAKE_CLI_REPLY: 'two' } })
  process.kill(spawnerPid, 'SIGKILL')
  const outcome = await handle.done
  // Either the spawn never happened (cli_error) or the gate was there and was killed (killed):
  // never a CLI left running, and the user is told.
  assert.ok(outcome.status === 'error:cli_error' || outcome.status === 'error:killed', outcome.status)
  assert.match(outcome.userMessage ?? '', /spawner process ended unexpectedly/)
  let record: { pid: number } | null = null
  try { record = JSON.parse(readFileSync(recordFile, 'utf8')) as { pid: number } } catch {}
  if (record !== null) assert.equal(isProcessAlive(record.pid), false)
  assert.equal((await rig.start({ env: { FAKE_CLI_REPLY: 'three', FAKE_CLI_DELAY_MS: '1' } }).handle.done).result?.text, 'three')
})

test('a stop asked for before the spawner answered: nothing runs, the run is aborted', async (t) => {
  const rig = await createRig(t)
  const { handle, recordFile } = rig.start({ env: { FAKE_CLI_REPLY: 'never' } })
  assert.equal(handle.pid, undefined, 'the pid is not known yet')
  const outcome = await handle.abort('user')
  assert.equal(outcome.status, 'error:aborted')
  assert.equal(outcome.result, null)
  assert.throws(() => readFileSync(recordFile), 'the CLI never started')
  assert.deepEqual(rig.registry.list(), [])
})

test('the spawner gets none of the service\'s environment; the CLI gets exactly its own', async (t) => {
  process.env['DUCTOR_SPAWNER_TEST_SECRET'] = 'service-only-secret'
  t.after(() => { delete process.env['DUCTOR_SPAWNER_TEST_SECRET'] })
  const rig = await createRig(t)
  const { handle, recordFile } = rig.start({ prompt: '[[hang]]', env: { FAKE_CLI_REPLY: 'x', ONLY_FOR_THE_CLI: 'yes' } })
  const seen = await rig.recorded(recordFile)
  const spawnerPid = rig.spawner?.pid()
  assert.ok(spawnerPid !== undefined)
  const environ = readFileSync(`/proc/${spawnerPid}/environ`, 'utf8')
  assert.doesNotMatch(environ, /service-only-secret|ONLY_FOR_THE_CLI/)
  assert.equal(seen.env['ONLY_FOR_THE_CLI'], 'yes')
  assert.equal(seen.env['DUCTOR_SPAWNER_TEST_SECRET'], undefined)
  assert.equal((await handle.abort()).status, 'error:aborted')
})

/** Fields of /proc/<pid>/stat after the command's closing parenthesis (state is [0], pgrp [2], session [3], nice [16]). */
function statFields (pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return text.slice(text.lastIndexOf(')') + 2).split(' ')
}

const PERL = ['/usr/bin/perl', '/bin/perl', '/usr/local/bin/perl'].some((p) => existsSync(p))

test('the CLI leads its own process group at nice 10, in the spawner\'s session and scheduler group, not in one of its own (ADR 0038)', async (t) => {
  const rig = await createRig(t)
  // A user's PERL5OPT reaches the CLI, and does not break the start (the spawner's perl runs without it).
  const { handle, recordFile } = rig.start({ prompt: '[[hang]]', env: { FAKE_CLI_REPLY: 'x', PERL5OPT: '-Mno::such::module' } })
  const seen = await rig.recorded(recordFile)
  const spawnerPid = rig.spawner?.pid()
  assert.ok(spawnerPid !== undefined)
  const cli = statFields(seen.pid)
  assert.equal(Number(cli[2]), seen.pid, 'the CLI leads its process group (stop and timeout signal the group)')
  assert.equal(Number(cli[16]), 10, 'the CLI runs at nice 10')
  assert.equal(seen.env['PERL5OPT'], '-Mno::such::module')
  if (PERL) {
    assert.equal(Number(cli[3]), spawnerPid, 'the CLI is in the spawner\'s session')
    assert.notEqual(Number(cli[3]), Number(statFields(process.pid)[3]), 'not in the service\'s')
    if (existsSync('/proc/self/autogroup')) {
      // With autogroups, a session is weighed as one: every CLI is in the spawner's group, not the service's.
      const group = (pid: number): string => readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0] ?? ''
      assert.equal(group(seen.pid), group(spawnerPid))
      assert.notEqual(group(seen.pid), group(process.pid))
    }
  } else {
    assert.equal(Number(cli[3]), seen.pid, 'without perl the CLI leads a session of its own')
  }
  assert.equal((await handle.abort()).status, 'error:aborted')
  assert.equal(isProcessAlive(seen.pid), false)
})

test('an idle spawner is let go, and the next run starts a new one', async (t) => {
  const logger = pino({ level: 'silent' })
  const spawner = createSpawner({ script: SCRIPT, logger, idleMs: 50 })
  t.after(async () => { await spawner.close() })
  assert.equal(spawner.pid(), undefined, 'none before it is needed')
  const child = await spawner.spawn({ file: '/bin/sh', args: ['-c', 'IFS= read -r go; echo ran'], cwd: '/', env: { PATH: '/usr/bin:/bin' } })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.go()
  assert.deepEqual(await child.exit, { exitCode: 0, signal: null })
  const first = spawner.pid()
  assert.ok(first !== undefined)
  await until('the idle spawner to exit', () => spawner.pid() === undefined && !isProcessAlive(first))
  await until('the output', () => out === 'ran\n')
  const again = await spawner.spawn({ file: '/bin/sh', args: ['-c', 'exit 3'], cwd: '/', env: {} })
  assert.deepEqual(await again.exit, { exitCode: 3, signal: null })
  assert.notEqual(spawner.pid(), first)
})

test('a spawn the spawner cannot do (missing working directory) fails with its errno, and the spawner stays', async (t) => {
  const spawner = createSpawner({ script: SCRIPT, logger: pino({ level: 'silent' }) })
  t.after(async () => { await spawner.close() })
  await assert.rejects(spawner.spawn({ file: '/bin/sh', args: ['-c', 'true'], cwd: '/nonexistent/dir', env: {} }), { name: 'Error', code: 'ENOENT' })
  const ok = await spawner.spawn({ file: '/bin/sh', args: ['-c', 'exit 0'], cwd: '/', env: {} })
  assert.equal((await ok.exit).exitCode, 0)
})

test('the service killed (SIGKILL) mid-run: the spawner kills the CLI\'s group and exits', async (t) => {
  // A stand-in for the service: a node process that starts a spawner and a CLI behind it, prints
  // their pids, and is then killed.
  const code = `
    import { createSpawner } from ${JSON.stringify(new URL('../../src/providers/spawner.ts', import.meta.url).href)}
    import { pino } from 'pino'
    const spawner = createSpawner({ script: ${JSON.stringify(SCRIPT)}, logger: pino({ level: 'silent' }) })
    const child = await spawner.spawn({ file: '/bin/sh', args: ['-c', 'IFS= read -r go; sleep 600 & echo $!; wait'], cwd: '/', env: { PATH: '/usr/bin:/bin' } })
    child.go()
    child.stdout.setEncoding('utf8').once('data', (d) => { process.stdout.write(JSON.stringify({ spawner: spawner.pid(), cli: child.pid, grandchild: Number(d.trim()) }) + '\\n') })
  `
  const service = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { service.kill('SIGKILL') })
  const line = await new Promise<string>((resolve, reject) => {
    let text = ''
    service.stdout.setEncoding('utf8').on('data', (d: string) => {
      text += d
      if (text.includes('\n')) resolve(text.split('\n')[0] ?? '')
    })
    service.once('exit', () => { reject(new Error(`the stand-in exited early: ${text}`)) })
  })
  const pids = JSON.parse(line) as { spawner: number, cli: number, grandchild: number }
  assert.ok(isProcessAlive(pids.spawner) && isProcessAlive(pids.cli) && isProcessAlive(pids.grandchild))
  service.kill('SIGKILL')
  await until('the spawner and the CLI group to be gone', () => !isProcessAlive(pids.spawner) && !isProcessAlive(pids.cli) && !isProcessAlive(pids.grandchild))
})

test('the service killed while a pipe it was sent is unacknowledged: the spawner still kills the CLI\'s group and exits', async (t) => {
  // The stand-in dies the moment the spawner says the CLI is spawned, before Node has acknowledged
  // the stdout pipe that follows: Node then closes the IPC channel without a `disconnect` event.
  const code = `
    import { createRequire, syncBuiltinESMExports } from 'node:module'
    import { writeSync } from 'node:fs'
    import { pino } from 'pino'
    const cp = createRequire(import.meta.url)('node:child_process')
    const spawnReal = cp.spawn
    cp.spawn = (...args) => {
      const child = spawnReal(...args)
      child.prependListener('message', (m) => {
        if (m?.t !== 'spawned') return
        writeSync(1, JSON.stringify({ spawner: child.pid, cli: m.pid }) + '\\n')
        process.kill(process.pid, 'SIGKILL')
      })
      return child
    }
    syncBuiltinESMExports()
    const { createSpawner } = await import(${JSON.stringify(new URL('../../src/providers/spawner.ts', import.meta.url).href)})
    const spawner = createSpawner({ script: ${JSON.stringify(SCRIPT)}, logger: pino({ level: 'silent' }) })
    await spawner.spawn({ file: '/bin/sh', args: ['-c', 'IFS= read -r go; sleep 600'], cwd: '/', env: { PATH: '/usr/bin:/bin' } })
  `
  const service = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { service.kill('SIGKILL') })
  let text = ''
  service.stdout.setEncoding('utf8').on('data', (d: string) => { text += d })
  await new Promise((resolve) => service.once('exit', resolve))
  const pids = JSON.parse(text.split('\n')[0] ?? '') as { spawner: number, cli: number }
  t.after(() => { for (const pid of [pids.spawner, -pids.cli]) { if (pid !== 0) { try { process.kill(pid, 'SIGKILL') } catch {} } } }) // 0 would be this test's own group
  await until('the spawner and the CLI group to be gone', () => !isProcessAlive(pids.spawner) && !isProcessAlive(pids.cli))
})

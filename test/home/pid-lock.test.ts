import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, readFile, access, readdir, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { acquirePidLock, PidLockError, readPidFile } from '../../src/home/pid-lock.ts'
import { isServiceCommand, processMark } from '../../src/home/process-identity.ts'
import { tempDir } from '../helper.ts'

test('a second holder of the lock is refused with the pid that holds it', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'ductor.pid')
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
  t.after(() => sleeper.kill('SIGKILL'))
  await writeFile(path, `${sleeper.pid}\n${JSON.stringify(processMark(sleeper.pid as number))}\n`)
  await assert.rejects(acquirePidLock(path), (err: unknown) => {
    assert.ok(err instanceof PidLockError)
    assert.equal(err.pid, sleeper.pid)
    assert.match(err.message, new RegExp(`pid ${String(sleeper.pid)}`))
    return true
  })
})

test('a lock left by a dead process is taken over and released on stop', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'ductor.pid')
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
  await new Promise((resolve) => dead.once('exit', resolve))
  await writeFile(path, `${dead.pid}\n`)
  const lock = await acquirePidLock(path)
  const [pid, mark] = (await readFile(path, 'utf8')).trim().split('\n')
  assert.equal(pid, String(process.pid), 'the pid on the first line, as older versions read it')
  assert.deepEqual(JSON.parse(mark ?? ''), processMark(process.pid), 'and the start mark of this process')
  lock.release()
  await assert.rejects(access(path), 'released')
})

test('a lock naming a pid that another process now has is stale: taken over, never reported as running (ADR 43)', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'ductor.pid')
  const other = spawn('sleep', ['30'], { stdio: 'ignore' })
  t.after(() => other.kill('SIGKILL'))
  const pid = other.pid as number
  const mark = processMark(pid)
  assert.ok(mark !== null)
  // The start time does not match (the pid was reused after the ductor that wrote it died).
  await writeFile(path, `${pid}\n${JSON.stringify({ ...mark, start: String(Number(mark.start) - 1) })}\n`)
  assert.equal((await readPidFile(path))?.alive, false)
  // An older version's lock (the pid only): the process there is not a ductor.
  await writeFile(path, `${pid}\n`)
  assert.equal((await readPidFile(path))?.alive, false)
  await writeFile(path, '1\n')
  assert.equal((await readPidFile(path))?.alive, false, 'init is not a ductor')
  // The right mark: that process holds it.
  await writeFile(path, `${pid}\n${JSON.stringify(mark)}\n`)
  assert.equal((await readPidFile(path))?.alive, true)
  await writeFile(path, `${pid}\n`)
  const lock = await acquirePidLock(path)
  assert.equal((await readFile(path, 'utf8')).split('\n')[0], String(process.pid))
  lock.release()
  assert.equal(other.exitCode, null, 'the other process was left alone')
})

test('a lock that names no pid yet (empty, half written) and is young is held; an old one is stale (ADR 49)', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'ductor.pid')
  await writeFile(path, '')
  await assert.rejects(acquirePidLock(path), (err: unknown) => {
    assert.ok(err instanceof PidLockError)
    assert.equal(err.pid, null)
    assert.match(err.message, /another ductor is starting on this home \(lock .*ductor\.pid is being written\)/)
    return true
  })
  const old = new Date(Date.now() - 60_000)
  await utimes(path, old, old)
  const lock = await acquirePidLock(path)
  assert.equal((await readFile(path, 'utf8')).split('\n')[0], String(process.pid))
  lock.release()
  assert.deepEqual(await readdir(dir), [], 'no temporary or claim file left')
})

test('a stale lock whose takeover was claimed by a start that died is still taken over; a live claimant holds it (ADR 49)', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'ductor.pid')
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
  await new Promise((resolve) => dead.once('exit', resolve))
  await writeFile(path, `${dead.pid}\n`)
  const { ino } = await stat(path, { bigint: true })
  // The claim on that very file, made by a start that died before replacing it.
  await writeFile(`${path}.claim-${ino}`, `${dead.pid}\n`)
  const lock = await acquirePidLock(path)
  assert.equal((await readFile(path, 'utf8')).split('\n')[0], String(process.pid))
  lock.release()
  assert.deepEqual(await readdir(dir), [], 'the dead claim is gone too')
  // A claim by a live start: that start is about to hold the lock.
  const starter = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
  t.after(() => starter.kill('SIGKILL'))
  await writeFile(path, `${dead.pid}\n`)
  const again = (await stat(path, { bigint: true })).ino
  await writeFile(`${path}.claim-${again}`, `${starter.pid}\n${JSON.stringify(processMark(starter.pid as number))}\n`)
  await assert.rejects(acquirePidLock(path), (err: unknown) => err instanceof PidLockError && err.pid === starter.pid && err.message.includes(`lock ${path})`))
})

test('which command lines are a ductor service (what an older lock without a start time is believed for)', () => {
  for (const words of [
    ['node', '/usr/lib/node_modules/ductor/bin/ductor.js', 'serve', '--no-supervisor'],
    ['node', '/usr/bin/ductor', 'serve'],
    ['node', '/usr/bin/ductor'],
    ['node', '/usr/bin/ductor', '-v', 'serve'],
    ['node', '/usr/bin/ductor', '--no-supervisor'],
    ['/usr/bin/node', '--import', 'tsx', '/src/ductor/src/cli/entry.ts', 'serve'],
    ['node', '/app/dist/src/cli/entry.js', 'serve', '--no-supervisor'],
    ['/usr/bin/node', '/usr/lib/node_modules/ductor/bin/ductor.js', 'serve', '--no-supervisor', '--verbose'],
    ['/home/u/.local/pipx/venvs/ductor/bin/python3.12', '/home/u/.local/bin/ductor']
  ]) assert.equal(isServiceCommand(words), true, words.join(' '))
  for (const words of [
    ['node', '/usr/bin/ductor', 'service', 'logs', '-f'],
    ['node', '/usr/bin/ductor', 'status'],
    ['node', '/usr/bin/ductor', '-v', 'chat', 'hi'],
    ['node', '/usr/bin/ductor', 'serve', '--help'],
    ['node', '/usr/lib/node_modules/ductor/bin/ductor-spawner.mjs'],
    ['node', '/usr/bin/ductor-approval-mcp.mjs'],
    ['python3', '/home/u/.local/bin/ductor', 'stop'],
    ['vim', 'ductor.pid'],
    // The sh supervisor (ADR 46) never writes the lock: its service does.
    ['/bin/sh', '/usr/lib/node_modules/ductor/bin/ductor-supervise.sh', '--launch', 'node', '/usr/lib/node_modules/ductor/bin/ductor.js', 'serve'],
    ['sleep', '300']
  ]) assert.equal(isServiceCommand(words), false, words.join(' '))
})

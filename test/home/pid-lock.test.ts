import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, readFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { acquirePidLock, PidLockError, readPidFile } from '../../src/home/pid-lock.ts'
import { processMark } from '../../src/home/process-identity.ts'
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

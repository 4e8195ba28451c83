import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, readFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { acquirePidLock, PidLockError } from '../../src/home/pid-lock.ts'
import { tempDir } from '../helper.ts'

test('a second holder of the lock is refused with the pid that holds it', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'ductor.pid')
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
  t.after(() => sleeper.kill('SIGKILL'))
  await writeFile(path, `${sleeper.pid}\n`)
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
  assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid))
  lock.release()
  await assert.rejects(access(path), 'released')
})

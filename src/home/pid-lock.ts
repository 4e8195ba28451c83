import { open, readFile, unlink } from 'node:fs/promises'
import { unlinkSync, readFileSync } from 'node:fs'

export class PidLockError extends Error {
  readonly pid: number

  constructor (pid: number, path: string) {
    super(`another ductor is already running on this home (pid ${pid}, lock ${path}); stop it first or use another DUCTOR_HOME`)
    this.name = 'PidLockError'
    this.pid = pid
  }
}

export interface PidLock {
  release: () => void
}

/** Reads the pid in a lock file and tells whether that process is alive. */
export async function readPidFile (path: string): Promise<{ pid: number, alive: boolean } | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return null
  }
  const pid = Number.parseInt(text.trim(), 10)
  if (!Number.isInteger(pid) || pid <= 0) return null
  return { pid, alive: isAlive(pid) }
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the single-instance lock: creates the pid file exclusively. A file left by a dead process is
 * taken over; one held by a live process (not us) refuses with the holder's pid.
 */
export async function acquirePidLock (path: string, pid = process.pid): Promise<PidLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644)
      await handle.writeFile(`${pid}\n`)
      await handle.close()
      return { release: () => releaseIfOurs(path, pid) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = await readPidFile(path)
    if (holder !== null && holder.alive && holder.pid !== pid) throw new PidLockError(holder.pid, path)
    await unlink(path).catch(() => {})
  }
  throw new Error(`could not take the lock ${path}`)
}

function releaseIfOurs (path: string, pid: number): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8').trim(), 10) === pid) unlinkSync(path)
  } catch {}
}

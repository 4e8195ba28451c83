import { open, readFile, unlink } from 'node:fs/promises'
import { unlinkSync, readFileSync } from 'node:fs'
import { isSameProcess, processMark, type ProcessMark } from './process-identity.ts'

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

/** The holder a lock file names: its pid, its start mark (null in a file of an older version), and whether that process still runs. */
export interface LockHolder { pid: number, mark: Partial<ProcessMark> | null, alive: boolean }

/**
 * Reads the lock file and tells whether the ductor that wrote it is alive (ADR 43). The file is the
 * pid on its first line (all an older version wrote, and all it reads) and, on the second, the start
 * mark of that process as JSON: `{"start":"…","boot":"…"}`. A pid that now belongs to another process
 * (its start time differs, or, without a mark, its command line is not ductor's) is not alive: the
 * lock is stale.
 */
export async function readPidFile (path: string): Promise<LockHolder | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return null
  }
  const [first = '', second = ''] = text.split('\n')
  const pid = Number.parseInt(first.trim(), 10)
  if (!Number.isSafeInteger(pid) || pid <= 0) return null
  let mark: Partial<ProcessMark> | null = null
  try {
    const parsed = JSON.parse(second) as { start?: unknown, boot?: unknown }
    if (typeof parsed.start === 'string') mark = { start: parsed.start, ...(typeof parsed.boot === 'string' ? { boot: parsed.boot } : {}) }
  } catch {}
  return { pid, mark, alive: isSameProcess(pid, mark) }
}

/** Whether the holder a lock file named still runs (the same process: a reused pid does not count). */
export function holderAlive (holder: Pick<LockHolder, 'pid' | 'mark'>): boolean {
  return isSameProcess(holder.pid, holder.mark)
}

/**
 * Takes the single-instance lock: creates the pid file exclusively, with this process's start mark.
 * A file left by a process that is gone, or whose pid now belongs to another process, is taken over;
 * one held by a live ductor (not us) refuses with the holder's pid.
 */
export async function acquirePidLock (path: string, pid = process.pid): Promise<PidLock> {
  const mark = processMark(pid)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644)
      await handle.writeFile(`${pid}\n${mark === null ? '' : JSON.stringify(mark) + '\n'}`)
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

/** Whether any process has `pid` (which one is not checked: see `holderAlive`). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

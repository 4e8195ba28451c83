import { randomBytes } from 'node:crypto'
import { link, open, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { unlinkSync, readFileSync } from 'node:fs'
import { isSameProcess, processMark, type ProcessMark } from './process-identity.ts'

export class PidLockError extends Error {
  /** The holder's pid; null when the lock is being written by a start that has not named itself yet. */
  readonly pid: number | null

  constructor (pid: number | null, path: string) {
    super(pid === null
      ? `another ductor is starting on this home (lock ${path} is being written); stop it first or use another DUCTOR_HOME`
      : `another ductor is already running on this home (pid ${pid}, lock ${path}); stop it first or use another DUCTOR_HOME`)
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
  return parseLock(text)
}

function parseLock (text: string): LockHolder | null {
  const [first = '', second = ''] = text.split('\n')
  if (!/^\s*\d+\s*$/.test(first)) return null
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
 * A lock file that names no pid (empty, half written, garbage) and is younger than this is held: an
 * older version creates the file, then writes its pid in a second step (ADR 49).
 */
const UNNAMED_LOCK_HELD_MS = 5000

/**
 * Takes the single-instance lock (ADR 43, 49). The whole record (the pid, then this process's start
 * mark) is written to a file of its own first and then linked into place: link(2) fails if the lock
 * exists, and a lock that exists is always complete, so no other start can read it half written.
 *
 * A lock whose holder is gone, or whose pid now belongs to another process, is taken over, and only
 * by one start: the one that creates `<lock>.claim-<inode>` (the same way), which then replaces that
 * very file (checked again: same inode, same text) with rename(2), so the lock never goes missing in
 * between. A claim whose maker died is taken over by the same rule one level up. A live holder or
 * claimant refuses with its pid.
 */
export async function acquirePidLock (path: string, pid = process.pid): Promise<PidLock> {
  const mark = processMark(pid)
  const text = `${pid}\n${mark === null ? '' : JSON.stringify(mark) + '\n'}`
  const own = `${path}.${pid}-${randomBytes(6).toString('hex')}`
  await writeFile(`${own}.tmp`, text, { flag: 'wx', mode: 0o644 })
  const made: string[] = []
  try {
    await take(path, { pid, text, own, made })
  } finally {
    // Our claims (if any) are done with; the lock itself stays.
    for (const name of made) await unlink(name).catch(() => {})
    await unlink(`${own}.tmp`).catch(() => {})
  }
  return { release: () => releaseIfOurs(path, text) }
}

interface Taker { pid: number, text: string, own: string, made: string[] }

/** Makes `name` ours: creates it, or replaces it when its holder is gone; throws PidLockError when it is held. */
async function take (name: string, me: Taker, depth = 0): Promise<void> {
  if (depth > 4) throw new Error(`could not take the lock ${name}`)
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(name, me)) return
    const seen = await inspect(name)
    if (seen === null) continue // released in between: try again
    if (seen.holder === null ? seen.young : seen.holder.alive && seen.holder.pid !== me.pid) throw new PidLockError(seen.holder?.pid ?? null, name.replace(/(\.claim-\d+)+$/, ''))
    // Stale: whoever makes the claim on this very file replaces it.
    const claim = `${name}.claim-${seen.ino}`
    await take(claim, me, depth + 1)
    me.made.push(claim)
    const now = await inspect(name)
    if (now === null || now.ino !== seen.ino || now.text !== seen.text) continue
    const fresh = `${me.own}.${depth}.tmp`
    me.made.push(fresh)
    await writeFile(fresh, me.text, { mode: 0o644 })
    await rename(fresh, name)
    return
  }
  throw new Error(`could not take the lock ${name}`)
}

/** Creates `name` holding our record, complete from its first moment; false when it exists. */
async function createExclusive (name: string, me: Taker): Promise<boolean> {
  try {
    await link(`${me.own}.tmp`, name)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err
  }
  // A file system without hard links: create, then write (a reader that comes in between sees a young unnamed lock: held).
  try {
    await writeFile(name, me.text, { flag: 'wx', mode: 0o644 })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

interface Seen { ino: bigint, text: string, young: boolean, holder: LockHolder | null }

/** The lock file as one open file: its inode, its text, whether it is young, and the holder it names. */
async function inspect (name: string): Promise<Seen | null> {
  let handle
  try {
    handle = await open(name, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const stats = await handle.stat({ bigint: true })
    const text = await handle.readFile('utf8')
    return { ino: stats.ino, text, young: Date.now() - Number(stats.mtimeMs) < UNNAMED_LOCK_HELD_MS, holder: parseLock(text) }
  } finally {
    await handle.close()
  }
}

function releaseIfOurs (path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) unlinkSync(path)
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

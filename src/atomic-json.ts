import { open, rename, mkdir, readFile, readdir, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { DuctorError, ErrorCodes } from './errors.ts'
import type { Logger } from './logger-types.ts'

/**
 * Writes `data` so that a crash at any moment leaves either the old or the new file, never half:
 * temp file in the same directory → fsync → rename over the target → fsync the directory.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await mkdir(dir, { recursive: true })
    const handle = await open(tmp, 'w', 0o600)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw new DuctorError(ErrorCodes.storage, `could not write ${path}: ${(err as Error).message}`, { cause: err })
  }
  await syncDirectory(dir)
}

export async function writeJsonAtomic (path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n')
}

/** Makes a rename or a newly created file in `dir` durable. */
export async function syncDirectory (dir: string): Promise<void> {
  // Makes the rename itself durable. Some platforms cannot open a directory for sync; that is fine.
  try {
    const handle = await open(dir, 'r')
    try { await handle.sync() } finally { await handle.close() }
  } catch {}
}

export type LoadResult<T> =
  | { status: 'missing', value: T }
  | { status: 'ok', value: T }
  | { status: 'quarantined', value: T, movedTo: string }

/**
 * Reads a JSON store. A missing file gives `empty()`. A file that does not parse, or that `accept`
 * refuses, is moved aside to `<name>.corrupt-<time>` (kept, never deleted), logged loudly, and the
 * store starts from `empty()`.
 */
export async function loadJsonFile<T> (
  path: string,
  opts: { empty: () => T, accept?: (raw: unknown) => raw is T, logger?: Logger, now?: () => number }
): Promise<LoadResult<T>> {
  await removeOrphanTemps(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', value: opts.empty() }
    throw new DuctorError(ErrorCodes.storage, `could not read ${path}: ${(err as Error).message}`, { cause: err })
  }
  let problem: string
  try {
    const raw: unknown = JSON.parse(text)
    if (opts.accept === undefined || opts.accept(raw)) return { status: 'ok', value: raw as T }
    problem = 'unexpected shape'
  } catch (err) {
    problem = (err as Error).message
  }
  const stamp = new Date(opts.now?.() ?? Date.now()).toISOString().replace(/[:.]/g, '-')
  const movedTo = `${path}.corrupt-${stamp}`
  await rename(path, movedTo)
  opts.logger?.error({ path, movedTo, problem }, `corrupt store ${basename(path)} moved aside; starting empty`)
  return { status: 'quarantined', value: opts.empty(), movedTo }
}

/**
 * Deletes the temp files of `writeFileAtomic` that a killed writer left next to `path`
 * (`.<name>.<pid>.<hex>.tmp` whose pid is no longer alive), so crashes do not pile them up.
 * A live writer's temp file (this process or another, e.g. the service while a CLI command reads) is kept.
 */
export async function removeOrphanTemps (path: string): Promise<void> {
  const dir = dirname(path)
  const prefix = `.${basename(path)}.`
  let names: string[]
  try { names = await readdir(dir) } catch { return }
  await Promise.all(names.map(async (name) => {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) return
    const pid = Number(name.slice(prefix.length).split('.')[0])
    if (!Number.isSafeInteger(pid) || pid <= 0 || isAlive(pid)) return
    await unlink(join(dir, name)).catch(() => {})
  }))
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

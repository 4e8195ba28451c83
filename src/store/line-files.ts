import { open, readdir, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { DuctorError, ErrorCodes } from '../errors.ts'

/** Reading JSONL stores back at startup, and cleaning up after a crash. */

/** Deletes temp files a crash left behind next to `path` (the names `writeFileAtomic` uses). */
export async function removeStaleTemps (path: string): Promise<void> {
  const dir = dirname(path)
  const prefix = `.${basename(path)}.`
  let names: string[]
  try { names = await readdir(dir) } catch { return }
  await Promise.all(names
    .filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'))
    .map((n) => unlink(join(dir, n)).catch(() => {})))
}

export interface ScanResult {
  /** Bytes in the file. */
  size: number
  /** End of the last complete line; anything after it is a torn write. */
  validEnd: number
}

/**
 * Calls `onLine` for every complete (newline-terminated) line with its byte offset. The buffer is
 * only valid during the call. A missing file is an empty one.
 */
export async function scanLines (path: string, onLine: (line: Buffer, offset: number) => void): Promise<ScanResult> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, validEnd: 0 }
    throw new DuctorError(ErrorCodes.storage, `could not read ${path}: ${(err as Error).message}`, { cause: err })
  }
  const chunk = Buffer.allocUnsafe(1 << 20)
  let carry = Buffer.alloc(0)
  let carryStart = 0
  let position = 0
  try {
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position)
      if (bytesRead === 0) break
      position += bytesRead
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead)
      let from = 0
      for (let nl = data.indexOf(10, from); nl !== -1; nl = data.indexOf(10, from)) {
        onLine(data.subarray(from, nl), carryStart + from)
        from = nl + 1
      }
      carryStart += from
      carry = Buffer.from(data.subarray(from))
    }
  } finally {
    await handle.close()
  }
  return { size: position, validEnd: carryStart }
}

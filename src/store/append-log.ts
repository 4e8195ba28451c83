import { writevSync } from 'node:fs'
import { open, mkdir, rename, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { DuctorError, ErrorCodes } from '../errors.ts'
import type { Logger } from '../logger-types.ts'
import { syncDirectory, writeFileAtomic } from '../atomic-json.ts'
import { removeStaleTemps } from './line-files.ts'

/**
 * An append-only file of lines with group commit: every append queued while a write+sync is in
 * flight goes into the next single write (writev) and shares its one fdatasync. Exactly one
 * operation touches the file at a time, so an exclusive job (compaction, rotation) never races an
 * append: appends that arrive meanwhile wait in the queue and land in the new file afterwards.
 *
 * The log knows nothing about what the lines mean; journal, dedupe and run history build on it
 * (reading the file back at startup is `scanLines` in line-files.ts).
 */

export interface AppendLogOptions {
  /** Flushes the file to disk. Default `handle.datasync()`. Tests inject a counting or gated one. */
  syncFile?: (handle: FileHandle) => Promise<void>
  /** Writes that did not ask to be durable are synced at most this long after being written. Default 1000. */
  lazySyncMs?: number
  /** Cut the file to this length on open: drops a torn tail found by `scanLines`. */
  truncateTo?: number
  logger?: Logger
}

export interface AppendOptions {
  /** Resolve only after the data is flushed to disk (default true). Otherwise once written. */
  durable?: boolean
  /** Called synchronously once the data is in the file, with its byte offset. */
  onWritten?: (offset: number) => void
}

/** What an exclusive job may do with the file while every append waits. */
export interface LogFile {
  readonly size: number
  readAt: (offset: number, length: number) => Promise<Buffer>
  /** Atomically replaces the whole file (temp + fsync + rename + directory fsync) and appends go on there. */
  replace: (chunks: readonly Uint8Array[]) => Promise<void>
}

export interface AppendLogStats { writes: number, syncs: number, bytes: number, replaces: number }

export interface AppendLog {
  readonly path: string
  size: () => number
  /** `data` as one buffer or as the parts of one record, written in order with no copy (writev). */
  append: (data: Uint8Array | readonly Uint8Array[], opts?: AppendOptions) => Promise<void>
  exclusive: <T>(fn: (file: LogFile) => Promise<T>) => Promise<T>
  /**
   * Reads bytes already in the file (below `size()`) while appends go on. Not while a `rewrite` or
   * `replace` may swap the file: the caller serializes those with its reads (one compaction at a time).
   */
  readAt: (offset: number, length: number) => Promise<Buffer>
  /**
   * Replaces the file with `head` followed by everything appended from byte `from` on, atomically,
   * without holding appends while `head` is written and synced (ADR 0041): `head` goes into a temp
   * file and is synced first, while appends go on into the old file; then, with appends waiting, the
   * old file's bytes from `from` to its end are copied after it, synced, and the temp renamed over
   * the file (and the directory synced). `onSwapped(shift)` is called once the new file is in place,
   * before any later append: a byte at offset `o >= from` of the old file is at `o + shift` now.
   * A crash at any moment leaves the old file or the new one, whole; a failure leaves the old one.
   */
  rewrite: (from: number, head: readonly Uint8Array[], onSwapped?: (shift: number) => void) => Promise<void>
  /** Resolves once everything appended before it is written and synced. */
  flush: () => Promise<void>
  /** Flushes, then closes the file; later appends are refused. */
  close: () => Promise<void>
  stats: () => AppendLogStats
}

interface QueuedWrite {
  data: Uint8Array | readonly Uint8Array[]
  bytes: number
  durable: boolean
  onWritten: ((offset: number) => void) | undefined
  resolve: () => void
  reject: (err: Error) => void
}

type Op =
  | { type: 'write', items: QueuedWrite[] }
  | { type: 'job', run: (file: LogFile) => Promise<void> }

export async function openAppendLog (path: string, opts: AppendLogOptions = {}): Promise<AppendLog> {
  const syncFile = opts.syncFile ?? ((h: FileHandle) => h.datasync())
  const lazySyncMs = opts.lazySyncMs ?? 1000
  await mkdir(dirname(path), { recursive: true })
  await removeStaleTemps(path)
  let handle: FileHandle
  try {
    handle = await open(path, 'ax+', 0o600)
    await syncDirectory(dirname(path)) // a new file: make its directory entry durable too
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    handle = await open(path, 'a+', 0o600)
  }
  let size = (await handle.stat()).size
  if (opts.truncateTo !== undefined && size > opts.truncateTo) {
    await handle.truncate(opts.truncateTo)
    await syncFile(handle)
    size = opts.truncateTo
  }

  const ops: Op[] = []
  const stats: AppendLogStats = { writes: 0, syncs: 0, bytes: 0, replaces: 0 }
  let running = false
  let closed = false
  let failed: DuctorError | null = null
  let unsynced = false
  let lazyTimer: NodeJS.Timeout | null = null
  let closing: Promise<void> | null = null

  function storageError (what: string, err: unknown): DuctorError {
    return new DuctorError(ErrorCodes.storage, `${what} ${path}: ${(err as Error).message}`, { cause: err })
  }

  function schedule (): void {
    if (running) return
    running = true
    // setImmediate, not a microtask: every append made in this turn of the event loop joins the batch.
    setImmediate(() => { drain().catch((err: unknown) => opts.logger?.error({ err, path }, 'append log failed')) })
  }

  async function drain (): Promise<void> {
    for (let op = ops.shift(); op !== undefined; op = ops.shift()) {
      if (op.type === 'write') await writeBatch(op.items)
      else await op.run(file)
    }
    running = false
  }

  async function sync (): Promise<void> {
    if (lazyTimer !== null) { clearTimeout(lazyTimer); lazyTimer = null }
    await syncFile(handle)
    stats.syncs++
    unsynced = false
  }

  async function writeBatch (items: QueuedWrite[]): Promise<void> {
    if (failed !== null) { for (const item of items) item.reject(failed); return }
    const start = size
    try {
      const buffers: Uint8Array[] = []
      for (const item of items) {
        if (item.data instanceof Uint8Array) buffers.push(item.data)
        else for (const part of item.data) buffers.push(part)
      }
      await writeFully(handle, buffers)
    } catch (err) {
      const error = storageError('could not write', err)
      // Cut a partial write back off so that no later line is ever glued onto a torn one.
      try { await handle.truncate(start) } catch { failed = error }
      opts.logger?.error({ err, path }, 'append log write failed')
      for (const item of items) item.reject(error)
      return
    }
    let offset = start
    for (const item of items) {
      try { item.onWritten?.(offset) } catch {}
      offset += item.bytes
    }
    stats.writes++
    stats.bytes += offset - start
    size = offset
    if (items.some((i) => i.durable)) {
      try {
        await sync()
      } catch (err) {
        // After a failed fsync nobody knows what reached the disk: refuse further appends, loudly.
        failed = storageError('could not sync', err)
        opts.logger?.error({ err, path }, 'append log sync failed; refusing further appends')
        for (const item of items) item.reject(failed)
        return
      }
    } else {
      unsynced = true
      armLazySync()
    }
    for (const item of items) item.resolve()
  }

  function armLazySync (): void {
    if (lazyTimer !== null || closed) return
    lazyTimer = setTimeout(() => {
      lazyTimer = null
      if (closing !== null) return // close syncs anyway
      flush().catch((err: unknown) => opts.logger?.error({ err, path }, 'append log lazy sync failed'))
    }, lazySyncMs)
    lazyTimer.unref()
  }

  async function readAt (offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, offset + done)
      if (bytesRead === 0) throw new DuctorError(ErrorCodes.storage, `unexpected end of ${path} at ${offset + done}`)
      done += bytesRead
    }
    return buf
  }

  /** Appends go on in the file at `path` (just renamed into place), `newSize` bytes long. */
  async function reopen (newSize: number): Promise<void> {
    const old = handle
    try {
      handle = await open(path, 'a+', 0o600)
    } catch (err) {
      failed = storageError('could not reopen', err)
      throw failed
    }
    await old.close().catch(() => {})
    size = newSize
    unsynced = false
    stats.replaces++
  }

  const file: LogFile = {
    get size () { return size },
    readAt,
    async replace (chunks) {
      await writeFileAtomic(path, Buffer.concat(chunks))
      await reopen(chunks.reduce((n, c) => n + c.byteLength, 0))
    }
  }

  async function rewrite (from: number, head: readonly Uint8Array[], onSwapped?: (shift: number) => void): Promise<void> {
    if (closed || closing !== null) throw new DuctorError(ErrorCodes.unavailable, `${path} is closed`)
    const dir = dirname(path)
    // The name writeFileAtomic uses: a temp a crash leaves behind is removed at the next open.
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
    let swapped = false
    let temp: FileHandle | undefined
    try {
      temp = await open(tmp, 'w', 0o600)
      const headData = Buffer.concat(head)
      const headBytes = headData.length
      await writeAt(temp, headData, 0)
      // The bulk of the data reaches the disk here, while appends go on in the old file.
      await temp.datasync()
      await enqueueJob(async () => {
        if (failed !== null) throw failed
        const tail = size > from ? await readAt(from, size - from) : Buffer.alloc(0)
        await writeAt(temp!, tail, headBytes)
        await temp!.sync()
        await temp!.close()
        temp = undefined
        await rename(tmp, path)
        swapped = true
        await syncDirectory(dir)
        await reopen(headBytes + tail.length)
        onSwapped?.(headBytes - from)
      })
    } catch (err) {
      if (temp !== undefined) await temp.close().catch(() => {})
      if (!swapped) await unlink(tmp).catch(() => {})
      throw err instanceof DuctorError ? err : storageError('could not rewrite', err)
    }
  }

  function enqueueJob<T> (fn: (f: LogFile) => Promise<T>): Promise<T> {
    if (closed || closing !== null) return Promise.reject(new DuctorError(ErrorCodes.unavailable, `${path} is closed`))
    return new Promise<T>((resolve, reject) => {
      ops.push({ type: 'job', run: async (f) => { try { resolve(await fn(f)) } catch (err) { reject(err instanceof Error ? err : new Error(String(err))) } } })
      schedule()
    })
  }

  function flush (): Promise<void> {
    return enqueueJob(async () => {
      if (failed !== null) throw failed
      if (unsynced) await sync()
    })
  }

  return {
    path,
    size: () => size,
    append (data, appendOpts = {}) {
      if (closed || closing !== null) return Promise.reject(new DuctorError(ErrorCodes.unavailable, `${path} is closed`))
      if (failed !== null) return Promise.reject(failed)
      return new Promise<void>((resolve, reject) => {
        const bytes = data instanceof Uint8Array ? data.byteLength : data.reduce((n, part) => n + part.byteLength, 0)
        const item: QueuedWrite = { data, bytes, durable: appendOpts.durable ?? true, onWritten: appendOpts.onWritten, resolve, reject }
        const last = ops.at(-1)
        if (last?.type === 'write') last.items.push(item)
        else ops.push({ type: 'write', items: [item] })
        schedule()
      })
    },
    exclusive: enqueueJob,
    readAt,
    rewrite,
    flush,
    close () {
      closing ??= enqueueJob(async () => {
        try {
          if (unsynced && failed === null) await sync()
        } finally {
          closed = true
          if (lazyTimer !== null) { clearTimeout(lazyTimer); lazyTimer = null }
          await handle.close()
        }
      })
      return closing
    },
    stats: () => ({ ...stats })
  }
}

/** Writes all of `data` at `position` (going on after a short write). */
async function writeAt (handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done)
    done += bytesWritten
  }
}

/**
 * Writes the batch with one synchronous writev: handing a few kilobytes to the page cache takes a
 * few microseconds, less than waking a thread-pool thread for it (on this 2-core VM the async
 * writev cost the webhook route ~8 % of its CPU; docs/benchmarks.md, P1). The fsync that makes it
 * durable stays asynchronous, off the event loop.
 */
async function writeFully (handle: FileHandle, buffers: Uint8Array[]): Promise<void> {
  let rest = buffers
  while (rest.length > 0) {
    const total = rest.reduce((n, b) => n + b.byteLength, 0)
    // IOV_MAX is 1024 on Linux: a longer batch goes in slices (the loop below continues it).
    const slice = rest.length > 1024 ? rest.slice(0, 1024) : rest
    const bytesWritten = writevSync(handle.fd, slice)
    if (bytesWritten >= total) return
    // A short write (or more buffers than one writev takes): go on from where it stopped.
    let skip = bytesWritten
    const next: Uint8Array[] = []
    for (const b of rest) {
      if (skip >= b.byteLength) { skip -= b.byteLength; continue }
      next.push(skip > 0 ? b.subarray(skip) : b)
      skip = 0
    }
    rest = next
  }
}

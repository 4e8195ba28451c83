import type { FileHandle } from 'node:fs/promises'
import { systemClock } from '../clock.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import { writeFileAtomic } from '../atomic-json.ts'
import { openAppendLog } from './append-log.ts'
import { removeStaleTemps, scanLines } from './line-files.ts'

/**
 * Remembers seen keys (Telegram update ids, webhook delivery ids) for a TTL, across restarts.
 * Memory is a Map in insertion order, so expired keys are dropped from its front and the oldest
 * keys go first past `maxKeys`. Each new key costs one short line appended to a JSONL file
 * (`{"k":key,"x":expiresAtMs}`; `x:0` forgets), written at once and synced lazily — a process crash
 * loses nothing, a power loss at most the last `lazySyncMs`. The file is rewritten with the live
 * keys once it holds more than twice as many lines as there are keys.
 *
 * Keys from different sources share one store when prefixed by the caller (`tg:<update_id>`,
 * `hook:<hook id>:<delivery id>`).
 */

export interface DedupeOptions {
  /** e.g. `<home>/state/dedupe.jsonl` */
  path: string
  /** How long a key is remembered. Default 24 h (SPEC §9). */
  ttlMs?: number
  /** At most this many keys are kept; the oldest go first. Default 100 000. */
  maxKeys?: number
  clock?: Clock
  logger?: Logger
  /** How long a new key may stay unsynced. Default 1000 ms. */
  lazySyncMs?: number
  syncFile?: (handle: FileHandle) => Promise<void>
}

export interface DedupeStore {
  /**
   * True when `key` was not seen within the TTL; it is remembered from now on, for `ttlMs` when given
   * (a replay window shorter or longer than the store's TTL), else for the store's TTL.
   */
  checkAndRemember: (key: string, now: number, ttlMs?: number) => boolean
  has: (key: string, now: number) => boolean
  /** Forgets a key, e.g. when recording the request failed and the sender should be able to retry. */
  forget: (key: string) => void
  size: () => number
  /** Resolves once every remembered key is on disk. */
  flush: () => Promise<void>
  close: () => Promise<void>
}

const compactSlack = 1024

export async function createDedupeStore (opts: DedupeOptions): Promise<DedupeStore> {
  const { path, logger } = opts
  const ttlMs = opts.ttlMs ?? 24 * 60 * 60 * 1000
  const maxKeys = opts.maxKeys ?? 100_000
  const clock = opts.clock ?? systemClock
  const seen = new Map<string, number>()

  let lines = 0
  let skipped = 0
  await removeStaleTemps(path)
  const scan = await scanLines(path, (line) => {
    lines++
    try {
      const rec = JSON.parse(line.toString('utf8')) as { k?: unknown, x?: unknown }
      if (typeof rec.k !== 'string' || typeof rec.x !== 'number') { skipped++; return }
      seen.delete(rec.k)
      if (rec.x > 0) seen.set(rec.k, rec.x)
    } catch {
      skipped++
    }
  })
  if (skipped > 0) logger?.warn({ path, skipped }, 'dedupe: ignored unreadable lines')
  purge(clock.now())
  trim()

  if (lines > 2 * seen.size + compactSlack) {
    await writeFileAtomic(path, snapshot())
    lines = seen.size
  }
  const log = await openAppendLog(path, { logger, truncateTo: scan.validEnd, lazySyncMs: opts.lazySyncMs, syncFile: opts.syncFile })
  let compacting = false

  // Keys are in insertion order; with per-key TTLs that is only nearly expiry order, so this stops at
  // the first live key and an expired one behind it waits for a later purge (`has`
  // checks the expiry itself, so it never counts).
  function purge (now: number): void {
    for (const [key, expires] of seen) {
      if (expires > now) break
      seen.delete(key)
    }
  }

  function trim (): void {
    for (const key of seen.keys()) {
      if (seen.size <= maxKeys) break
      seen.delete(key)
    }
  }

  function snapshot (): Buffer {
    let text = ''
    for (const [k, x] of seen) text += JSON.stringify({ k, x }) + '\n'
    return Buffer.from(text)
  }

  // Keys a failed write left out (a full disk): written again with the next key or at close, so
  // that a sender's retry after the next start is still a duplicate.
  const unwritten = new Map<string, number>()

  function append (records: Array<[string, number]>): void {
    const data = Buffer.from(records.map(([k, x]) => JSON.stringify({ k, x }) + '\n').join(''))
    log.append(data, { durable: false }).catch((err: unknown) => {
      for (const [k, x] of records) if (!unwritten.has(k)) unwritten.set(k, x)
      logger?.error({ err, path }, 'dedupe: could not write; will try again')
    })
  }

  function write (key: string, expires: number): void {
    lines++
    unwritten.delete(key)
    const records: Array<[string, number]> = [...unwritten, [key, expires]]
    unwritten.clear()
    append(records)
    if (compacting || lines <= 2 * seen.size + compactSlack) return
    compacting = true
    log.exclusive(async (file) => {
      const data = snapshot()
      lines = seen.size
      await file.replace([data])
    }).catch((err: unknown) => logger?.error({ err, path }, 'dedupe: compaction failed'))
      .finally(() => { compacting = false })
  }

  function has (key: string, now: number): boolean {
    const expires = seen.get(key)
    return expires !== undefined && expires > now
  }

  return {
    checkAndRemember (key, now, keyTtlMs) {
      purge(now)
      if (has(key, now)) return false
      const expires = now + (keyTtlMs ?? ttlMs)
      seen.delete(key)
      seen.set(key, expires)
      trim()
      write(key, expires)
      return true
    },
    has,
    forget (key) {
      if (!seen.delete(key)) return
      write(key, 0)
    },
    size: () => seen.size,
    flush: () => log.flush(),
    close: () => {
      if (unwritten.size > 0) {
        append([...unwritten])
        unwritten.clear()
      }
      return log.close()
    }
  }
}

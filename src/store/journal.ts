import type { FileHandle } from 'node:fs/promises'
import { DuctorError, ErrorCodes } from '../errors.ts'
import { systemClock } from '../clock.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import { writeFileAtomic } from '../atomic-json.ts'
import { openAppendLog } from './append-log.ts'
import { removeStaleTemps, scanLines } from './line-files.ts'
import type { AppendLogStats } from './append-log.ts'

/**
 * The durable inbox (SPEC §11): every accepted Telegram update and webhook delivery is appended
 * here, and flushed to disk, before it is acknowledged. One JSON object per line:
 *
 *   {"t":"h","next":42}                                   header written by compaction (next seq)
 *   {"t":"e","seq":42,"kind":"webhook","key":"…","at":"…","payload":…}   an accepted entry
 *   {"t":"d","seq":42}                                    done: never to be replayed
 *   {"t":"d","seq":42,"also":[43,44]}                     done, several at once (an album's run)
 *   {"t":"p","seq":42,"done":2}                           progress: the entry's first 2 steps are done
 *
 * A line is one write(2) and is read whole or not at all (a torn line is skipped), so the marks of
 * one record land together: an album whose run starts is never half marked, half replayed. The
 * first seq stands in `seq`, so a reader that knows no `also` (this code before ADR 0035) still
 * takes it for a done mark; the Python version does not read this file. A progress line is for an
 * entry whose work goes out in several steps (an automation result sent as several messages, ADR 0044):
 * the replay skips the steps it names. A reader without it (this code before ADR 0050) skips the line
 * as unreadable and replays the whole entry, as before.
 *
 * Durability: `append` resolves after write + fdatasync, shared by every append queued meanwhile
 * (group commit). An entry gets its done mark in one of two ways (src/store/inbox.ts decides which):
 * `markStarted` when its work is about to reach a CLI (written and synced before it resolves, and it
 * rejects when the mark could not be written, so the run is not started), or `markFinished` when its
 * processing ended without a CLI run (written promptly, synced by a later write, the lazy sync,
 * compaction or `close`; lost only to an OS crash inside that window, and then the entry is replayed,
 * which is harmless because it never reached a CLI). The dedupe store guards against the sender
 * delivering the same update/delivery again.
 *
 * Compaction rewrites only the pending entries (temp + fsync + rename + directory fsync). It runs
 * at open and whenever the file passes `compactBytes` while at most half of it is still pending.
 * The pending entries are copied and synced while appends go on; only what was appended meanwhile
 * is copied with appends waiting, right before the rename (ADR 0041), so an append that races it
 * lands in the new file too.
 */

/** `delivery`: an automation result to send to a chat (src/telegram/deliveries.ts, ADR 0044). */
const JournalKinds = ['telegram', 'webhook', 'delivery'] as const
export type JournalKind = typeof JournalKinds[number]

export interface JournalInput {
  kind: JournalKind
  /** Telegram update_id, webhook delivery id, or `<run id>:<chat id>` of an automation result. */
  key: string
  payload: unknown
  /**
   * `payload` as JSON text in UTF-8, when the caller holds it already (a webhook body, as received):
   * written as it is instead of `JSON.stringify(payload)`. It must be JSON that parses to `payload`;
   * one holding a newline byte cannot stand in a line and is ignored (the payload is stringified).
   * Several parts are that text in order (written as they are, not joined first).
   */
  encoded?: Uint8Array | readonly Uint8Array[]
}

export interface JournalEntry extends JournalInput {
  seq: number
  /** ISO time the entry was accepted. */
  accepted_at: string
  /** Steps of its work a previous life recorded as done (Journal.markProgress); absent = none. */
  progress?: number
}

export interface JournalOptions {
  /** The journal file, e.g. `<home>/state/inbox.jsonl`. */
  path: string
  clock?: Clock
  logger?: Logger
  /** Compact when the file grows past this many bytes. Default 16 MiB. */
  compactBytes?: number
  /** How long a done mark may stay unsynced. Default 1000 ms. */
  lazySyncMs?: number
  /** Injected fdatasync (tests count or gate it). */
  syncFile?: (handle: FileHandle) => Promise<void>
}

export interface JournalStats extends AppendLogStats {
  appends: number
  pending: number
  fileBytes: number
  compactions: number
}

export interface Journal {
  /** Resolves once the entry is on disk. */
  append: (entry: JournalInput) => Promise<{ seq: number }>
  /**
   * The entries' work (one run: one entry, or an album's several) reaches a CLI now: resolves once
   * their done marks are written and synced, as one record that lands whole or not at all. Rejects
   * when it cannot be written (a full disk); every entry then stays pending (replayed next start,
   * together). Unknown or already-done seqs are left out; none left resolves at once.
   */
  markStarted: (seqs: readonly number[]) => Promise<void>
  /**
   * The entry's processing ended without reaching a CLI: its done mark is written promptly, not
   * synced on its own. Never throws: a mark that cannot be written is logged and written again later.
   */
  markFinished: (seq: number) => void
  /**
   * The entry's first `done` steps are done (e.g. parts of a result Telegram took): a replay of it
   * carries `progress: done`. Resolves once the line is written (a process crash keeps it; it is
   * synced with the next durable write or the lazy sync, within `lazySyncMs`). Never throws: a mark
   * that cannot be written is logged, and the replay then repeats those steps.
   */
  markProgress: (seq: number, done: number) => Promise<void>
  /** Entries found unfinished when the journal was opened, in order, minus those marked done since. */
  pending: () => JournalEntry[]
  /** Rewrites the file with only the unfinished entries. */
  compact: () => Promise<void>
  /** Flushes everything (done marks included) and closes the file. */
  close: () => Promise<void>
  stats: () => JournalStats
}

interface Location { offset: number, length: number }

const newline = Buffer.from('\n')

function headerLine (next: number): Buffer {
  return Buffer.from(JSON.stringify({ t: 'h', next }) + '\n')
}

const lineEnd = Buffer.from('}\n')

/**
 * One entry's line, as the parts to write. An `encoded` payload is written as it is, between the
 * line's head and end, with no copy: no second JSON.stringify of a body just parsed (ADR 0033), and
 * no joining of the body's bytes into one buffer (ADR 0048).
 */
function entryLine (seq: number, input: JournalInput, at: string): Uint8Array[] {
  const { encoded } = input
  const parts = encoded === undefined ? undefined : encoded instanceof Uint8Array ? [encoded] : encoded
  if (parts === undefined || parts.some((part) => part.includes(0x0a))) {
    return [Buffer.from(JSON.stringify({ t: 'e', seq, kind: input.kind, key: String(input.key), at, payload: input.payload ?? null }) + '\n')]
  }
  const head = Buffer.from(`{"t":"e","seq":${seq},"kind":${JSON.stringify(input.kind)},"key":${JSON.stringify(String(input.key))},"at":"${at}","payload":`)
  return [head, ...parts, lineEnd]
}

function isKind (value: unknown): value is JournalKind {
  return (JournalKinds as readonly unknown[]).includes(value)
}

function progressLine (seq: number, done: number): Buffer {
  return Buffer.from(`{"t":"p","seq":${seq},"done":${done}}\n`)
}

function isSeq (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

export async function createJournal (opts: JournalOptions): Promise<Journal> {
  const { path, logger } = opts
  const clock = opts.clock ?? systemClock
  const compactBytes = opts.compactBytes ?? 16 * 1024 * 1024

  // 1. Read what is there: unfinished entries in order; skip torn or unreadable lines.
  const found = new Map<number, { entry: JournalEntry, line: Buffer }>()
  /** Steps recorded done, by seq (kept in memory for the entries still pending, and rewritten by compaction). */
  const progress = new Map<number, number>()
  let nextSeq = 1
  let skipped = 0
  await removeStaleTemps(path)
  const scan = await scanLines(path, (line) => {
    if (line.length === 0) return
    let rec: Record<string, unknown>
    try {
      rec = JSON.parse(line.toString('utf8')) as Record<string, unknown>
    } catch {
      skipped++
      return
    }
    if (rec.t === 'e' && isSeq(rec.seq) && isKind(rec.kind) && typeof rec.key === 'string') {
      const at = typeof rec.at === 'string' ? rec.at : new Date(0).toISOString()
      found.set(rec.seq, { entry: { seq: rec.seq, kind: rec.kind, key: rec.key, payload: rec.payload ?? null, accepted_at: at }, line: Buffer.from(line) })
      nextSeq = Math.max(nextSeq, rec.seq + 1)
    } else if (rec.t === 'd' && isSeq(rec.seq)) {
      for (const seq of Array.isArray(rec.also) ? [rec.seq, ...rec.also.filter(isSeq)] : [rec.seq]) {
        found.delete(seq)
        nextSeq = Math.max(nextSeq, seq + 1)
      }
    } else if (rec.t === 'p' && isSeq(rec.seq) && isSeq(rec.done)) {
      if (found.has(rec.seq)) progress.set(rec.seq, Math.max(progress.get(rec.seq) ?? 0, rec.done))
    } else if (rec.t === 'h' && isSeq(rec.next)) {
      nextSeq = Math.max(nextSeq, rec.next)
    } else {
      skipped++
    }
  })
  const torn = scan.size - scan.validEnd
  if (skipped > 0 || torn > 0) logger?.warn({ path, skipped, tornBytes: torn }, 'journal: ignored unreadable lines')

  // 2. Startup compaction: header + unfinished entries, atomically. This also drops a torn tail.
  const live = new Map<number, Location>()
  const recovered = new Map<number, JournalEntry>()
  const chunks: Buffer[] = [headerLine(nextSeq)]
  let offset = chunks[0]!.length
  for (const [seq, { entry, line }] of found) {
    chunks.push(line, newline)
    live.set(seq, { offset, length: line.length + 1 })
    offset += line.length + 1
    const done = progress.get(seq)
    if (done !== undefined) {
      const mark = progressLine(seq, done)
      chunks.push(mark)
      offset += mark.length
      entry.progress = done
    }
    recovered.set(seq, entry)
  }
  for (const seq of progress.keys()) if (!live.has(seq)) progress.delete(seq)
  await writeFileAtomic(path, Buffer.concat(chunks))
  found.clear()
  if (recovered.size > 0) logger?.info({ path, pending: recovered.size }, 'journal: unfinished entries to replay')

  const log = await openAppendLog(path, { logger, syncFile: opts.syncFile, lazySyncMs: opts.lazySyncMs })
  let liveBytes = offset - chunks[0]!.length
  let appends = 0
  let compactions = 0
  let compacting: Promise<void> | null = null

  function forget (seq: number): boolean {
    const loc = live.get(seq)
    if (loc === undefined) return false
    live.delete(seq)
    recovered.delete(seq)
    progress.delete(seq)
    liveBytes -= loc.length
    return true
  }

  /**
   * Copies the unfinished entries into a new file while appends go on (ADR 0041): they are read in
   * large reads and written and synced into the new file without holding the journal; only the
   * lines appended meanwhile are copied with appends waiting, then the new file takes the old one's
   * place (log.rewrite). Before, every append waited for the whole copy — one read per entry — and
   * the deliveries acknowledged meanwhile waited up to half a second under load.
   */
  function compact (): Promise<void> {
    compacting ??= (async () => {
      const from = log.size()
      const header = headerLine(nextSeq)
      const copied: Array<[number, Location]> = []
      for (const [seq, loc] of live) if (loc.offset + loc.length <= from) copied.push([seq, loc])
      copied.sort((a, b) => a[1].offset - b[1].offset)
      const parts: Buffer[] = [header]
      const moved = new Map<number, Location>()
      let at = header.length
      // Neighbouring entries are read together, up to 1 MiB a read.
      for (let i = 0; i < copied.length;) {
        const start = copied[i]![1].offset
        let end = start + copied[i]![1].length
        let j = i + 1
        while (j < copied.length && copied[j]![1].offset - end <= 64 * 1024 && copied[j]![1].offset + copied[j]![1].length - start <= 1024 * 1024) {
          end = copied[j]![1].offset + copied[j]![1].length
          j++
        }
        const chunk = await log.readAt(start, end - start)
        for (; i < j; i++) {
          const [seq, loc] = copied[i]!
          parts.push(chunk.subarray(loc.offset - start, loc.offset - start + loc.length))
          moved.set(seq, { offset: at, length: loc.length })
          at += loc.length
          // Its progress so far (a later mark, appended meanwhile, comes along in the tail).
          const done = progress.get(seq)
          if (done !== undefined) {
            const mark = progressLine(seq, done)
            parts.push(mark)
            at += mark.length
          }
        }
      }
      await log.rewrite(from, parts, (shift) => {
        // Entries marked done meanwhile are out of `live`; their done line came along in the tail.
        for (const [seq, loc] of live) {
          const to = moved.get(seq)
          if (to !== undefined) live.set(seq, to)
          else if (loc.offset >= from) live.set(seq, { offset: loc.offset + shift, length: loc.length })
        }
      })
      compactions++
    })().finally(() => { compacting = null })
    return compacting
  }

  // Done marks a failed write left out (a full disk): written again with the next append, done mark
  // or close, so that a finished entry is not replayed (run twice) after the next start.
  const unwritten = new Set<number>()

  function writeDone (seqs: number[]): Promise<void> {
    const data = Buffer.from(seqs.map((seq) => `{"t":"d","seq":${seq}}\n`).join(''))
    return log.append(data, { durable: false }).catch((err: unknown) => {
      for (const seq of seqs) unwritten.add(seq)
      logger?.error({ err, path, seqs }, 'journal: could not write done mark; will try again')
    })
  }

  // Done marks of one turn of the event loop go out as one write (ADR 0036): under load every
  // delivery finished on its own meant a buffer, a queued write and three promises per mark.
  let doneThisTurn: number[] = []
  function writeDoneThisTurn (): void {
    const seqs = doneThisTurn
    if (seqs.length === 0) return
    doneThisTurn = []
    writeDone(seqs).catch(() => {})
  }

  function retryDone (): void {
    if (unwritten.size === 0) return
    const seqs = [...unwritten]
    unwritten.clear()
    writeDone(seqs).catch(() => {})
  }

  function maybeCompact (): void {
    const size = log.size()
    if (compacting !== null || size < compactBytes || liveBytes * 2 > size) return
    compact().catch((err: unknown) => logger?.error({ err, path }, 'journal compaction failed'))
  }

  return {
    async append (input) {
      if (!isKind(input.kind)) throw new DuctorError(ErrorCodes.badRequest, `unknown journal kind ${String(input.kind)}`)
      const seq = nextSeq++
      const data = entryLine(seq, input, new Date(clock.now()).toISOString())
      const length = data.reduce((n, part) => n + part.byteLength, 0)
      retryDone()
      try {
        await log.append(data, {
          durable: true,
          onWritten: (at) => {
            live.set(seq, { offset: at, length })
            liveBytes += length
          }
        })
      } catch (err) {
        forget(seq)
        throw err
      }
      appends++
      maybeCompact()
      return { seq }
    },
    markFinished (seq) {
      if (!forget(seq)) return
      retryDone()
      if (doneThisTurn.push(seq) === 1) setImmediate(writeDoneThisTurn)
    },
    async markStarted (seqs) {
      const [seq, ...also] = [...new Set(seqs)].filter((s) => live.has(s))
      if (seq === undefined) return
      retryDone()
      // Durable before it resolves, and the entries stay live (and so are compacted and replayed) until
      // the mark is on disk: a run whose mark failed is refused, not started unrecorded.
      let written = false
      try {
        await log.append(Buffer.from(also.length === 0 ? `{"t":"d","seq":${seq}}\n` : `{"t":"d","seq":${seq},"also":[${also.join(',')}]}\n`), {
          durable: true,
          // Forgotten the moment the line is in the file: a compaction after it must not copy the entries.
          onWritten: () => {
            written = true
            forget(seq)
            for (const s of also) forget(s)
          }
        })
      } catch (err) {
        // Written but not synced: a process crash keeps it (only an OS crash could lose it).
        if (!written) throw err
        logger?.warn({ err, path, seqs: [seq, ...also] }, 'journal: a started mark was written but could not be synced')
      }
    },
    async markProgress (seq, done) {
      if (!live.has(seq) || !isSeq(done) || done <= (progress.get(seq) ?? 0)) return
      progress.set(seq, done)
      retryDone()
      await log.append(progressLine(seq, done), { durable: false }).catch((err: unknown) => {
        logger?.warn({ err, path, seq, done }, 'journal: could not write a progress mark; a replay repeats those steps')
      })
    },
    pending: () => [...recovered.values()],
    compact,
    close: () => {
      const finish = (): Promise<void> => {
        writeDoneThisTurn()
        retryDone()
        return log.close()
      }
      // A compaction under way ends first: its copy is made while appends go on, and close would cut it off.
      return compacting === null ? finish() : compacting.catch(() => {}).then(finish)
    },
    stats: () => ({ ...log.stats(), appends, pending: live.size, fileBytes: log.size(), compactions })
  }
}

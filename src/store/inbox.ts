import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { DedupeStore } from './dedupe.ts'
import type { Journal, JournalEntry, JournalKind } from './journal.ts'

/**
 * What the ingresses (Telegram updates, webhook deliveries) hand their work to (SPEC §11):
 * `accept` suppresses a key seen in the last 24 h, appends the entry to the durable journal, and
 * resolves only once it is on disk — the route answers after that. The entry then goes to the
 * handler of its kind in the background and is marked done when the handler settles (a failing
 * handler is logged, not retried: the failure is the handler's to report). Entries a crash left
 * unfinished are replayed by `start`, in order, through the same handlers: at least once, with the
 * dedupe store stopping a sender that delivers the same key again.
 */

/**
 * Processes one entry. `finish` marks it done before the handler settles and resolves once the mark
 * is in the journal file: a handler that starts something that must not run twice (a CLI run) calls
 * it first, so a crash right after the start cannot replay the entry.
 */
export type InboxHandler = (entry: JournalEntry, finish: () => Promise<void>) => Promise<void>

export interface InboxAcceptResult {
  status: 'accepted' | 'duplicate'
  /** The journal sequence number, or null for a duplicate. */
  seq: number | null
}

/** A further key that makes a later entry a duplicate of this one (e.g. a webhook's signed-content digest). */
export interface AlsoKey { key: string, ttlMs?: number }

export interface Inbox {
  /**
   * `also`: more keys (same kind) that mark a duplicate too and are remembered with the entry, each
   * for its own `ttlMs`. Unlike `key` they are not in the journal, so an entry a crash caught between
   * the journal's flush and the dedupe write gets only its `key` back at the next start.
   */
  accept: (kind: JournalKind, key: string, payload: unknown, also?: readonly AlsoKey[]) => Promise<InboxAcceptResult>
  /** Sets the processor for one kind; entries of a kind without a handler stay pending (replayed next start). */
  handle: (kind: JournalKind, handler: InboxHandler) => void
  /** Replays entries a previous process accepted but did not finish. Returns how many. */
  start: () => Promise<number>
  /** Entries being processed right now. */
  inFlight: () => number
  /**
   * Shutdown: waits at most `ms` for handlers to settle; whatever is still running then is left
   * unfinished in the journal, so the next start replays it instead of losing it.
   */
  stop: (ms: number) => Promise<void>
  close: () => Promise<void>
}

export interface InboxDeps {
  journal: Journal
  dedupe: DedupeStore
  clock: Clock
  logger: Logger
}

export function createInbox (deps: InboxDeps): Inbox {
  const { journal, dedupe, clock, logger } = deps
  const handlers = new Map<JournalKind, InboxHandler>()
  const running = new Set<Promise<void>>()
  /** Keys whose entry is being written (a concurrent copy is a duplicate of it). */
  const recording = new Set<string>()
  let started = false
  let stopped = false
  // An entry on disk whose key never reached the dedupe file (killed between the journal's flush and
  // the dedupe write, before the answer): the sender sends it again, and it must be a duplicate of
  // the replay, not a second copy.
  for (const entry of journal.pending()) dedupe.checkAndRemember(`${entry.kind}:${entry.key}`, clock.now())

  function dispatch (entry: JournalEntry): void {
    const handler = handlers.get(entry.kind)
    if (handler === undefined || stopped) return
    const finish = async (): Promise<void> => { if (!stopped) await journal.finish(entry.seq) }
    const work = (async () => {
      try {
        await handler(entry, finish)
      } catch (err) {
        logger.error({ err, kind: entry.kind, key: entry.key, seq: entry.seq }, 'inbox: processing failed')
      } finally {
        if (!stopped) journal.markDone(entry.seq)
      }
    })()
    running.add(work)
    work.finally(() => running.delete(work)).catch(() => {})
  }

  return {
    async accept (kind, key, payload, also = []) {
      const keys = [{ key: `${kind}:${key}`, ttlMs: undefined as number | undefined }, ...also.map((a) => ({ key: `${kind}:${a.key}`, ttlMs: a.ttlMs }))]
      const now = clock.now()
      if (keys.some((k) => recording.has(k.key) || dedupe.has(k.key, now))) return { status: 'duplicate', seq: null }
      // The keys are remembered on disk only once the entry is: a crash in between must not turn the
      // sender's retry into a "duplicate" of something that was never saved.
      for (const k of keys) recording.add(k.key)
      let seq: number
      try {
        ({ seq } = await journal.append({ kind, key, payload }))
        for (const k of keys) dedupe.checkAndRemember(k.key, clock.now(), k.ttlMs)
      } finally {
        for (const k of keys) recording.delete(k.key)
      }
      dispatch({ kind, key, payload, seq, accepted_at: new Date(clock.now()).toISOString() })
      return { status: 'accepted', seq }
    },
    handle (kind, handler) { handlers.set(kind, handler) },
    async start () {
      if (started) return 0
      started = true
      const pending = journal.pending()
      if (pending.length > 0) logger.info({ entries: pending.length }, 'inbox: replaying entries left unfinished by the last run')
      for (const entry of pending) dispatch(entry)
      return pending.length
    },
    inFlight: () => running.size,
    async stop (ms) {
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })
        await Promise.race([Promise.allSettled([...running]), deadline])
        clearTimeout(timer)
      }
      if (running.size > 0) logger.info({ entries: running.size }, 'inbox: unfinished entries will be replayed at the next start')
      stopped = true
    },
    async close () {
      stopped = true
      await journal.close()
      await dedupe.close()
    }
  }
}

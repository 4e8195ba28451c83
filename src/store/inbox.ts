import type { Clock } from '../clock.ts'
import { ClaimRefused, type ClaimGate, type WorkClaim } from '../claims.ts'
import type { Logger } from '../logger-types.ts'
import type { DedupeStore } from './dedupe.ts'
import type { Journal, JournalEntry, JournalKind } from './journal.ts'

/**
 * What the ingresses (Telegram updates, webhook deliveries) hand their work to (SPEC §11):
 * `accept` suppresses a key seen in the last 24 h, appends the entry to the durable journal, and
 * resolves only once it is on disk — the route answers after that. The entry then goes to the
 * handler of its kind in the background, with its claim (src/core/claims.ts). An entry is done in
 * exactly one of two ways, both here:
 *
 * - started: a run made for it calls `claim.started()` right before its CLI execs (after recording
 *   the CLI's process group), which writes and syncs the done mark. A crash after that never
 *   replays the entry (ADR 9). An album's entries share one run and one claim (`allClaims` →
 *   `joinWith`): their marks are one journal record, all written or none (ADR 35).
 * - finished: the handler settled without any run starting (a command, a skipped delivery, a
 *   failure), and the service is not stopping: the done mark is written then.
 *
 * Anything else stays unfinished and is replayed by `start`, in order, through the same handlers:
 * an entry whose handler was still waiting (a chat queue, a run slot) when the service stopped or
 * died, or whose CLI's process group or started mark could not be written (a full disk). A failing
 * handler is logged, not retried.
 */

/**
 * Processes one entry; every run it makes for the entry goes through `claim` (see WorkClaim). A
 * handler that makes no run and has done its entry's whole work resolves `'finished'`: the entry is
 * then marked done even while the service stops (an automation result that was sent must not be
 * sent again by the replay); otherwise a handler that settles during a stop leaves it for the replay.
 */
export type InboxHandler = (entry: JournalEntry, claim: WorkClaim) => Promise<void | 'finished' | FinishAfter>

/**
 * A handler's answer when its work is over but the entry must not be finished before `after`
 * settles (a webhook delivery: its trigger count's paced write, ADR 0033). The entry is then decided
 * as if the handler had settled at that moment, but nothing of the handler waits: the inbox keeps
 * only the entry's seq, with every other seq waiting for the same promise (ADR 0048). Meant for a
 * promise shared by many entries; it should not reject (a rejection is logged once, and the entries
 * are decided as for a failed handler).
 */
export interface FinishAfter { readonly after: PromiseLike<unknown> }

export interface InboxAcceptResult {
  status: 'accepted' | 'duplicate'
  /** The journal sequence number, or null for a duplicate. */
  seq: number | null
}

/**
 * A further key that makes a later entry a duplicate of this one (e.g. a webhook's signed-content
 * digest). `remember: false`: checked only (an entry matching it is a duplicate), not left behind.
 */
export interface AlsoKey { key: string, ttlMs?: number, remember?: boolean }

export interface AcceptOptions {
  /**
   * False when `key` was made up by the caller for this entry (a random id: a webhook delivery that
   * names none), so that no sender can ever repeat it: it is then neither checked nor remembered, a
   * dedupe line and a 24-hour map entry per delivery that could never match (ADR 0033). Default true.
   */
  remember?: boolean
  /** `payload` as JSON text, written to the journal as it is (see JournalInput.encoded). */
  encoded?: Uint8Array | readonly Uint8Array[]
}

export interface Inbox {
  /**
   * `also`: more keys (same kind) that mark a duplicate too and are remembered with the entry, each
   * for its own `ttlMs`. Unlike `key` they are not in the journal, so an entry a crash caught between
   * the journal's flush and the dedupe write gets only its `key` back at the next start.
   */
  accept: (kind: JournalKind, key: string, payload: unknown, also?: readonly AlsoKey[], opts?: AcceptOptions) => Promise<InboxAcceptResult>
  /**
   * The entry's first `done` steps are done (a long automation result: the parts Telegram took), so
   * that a replay skips them (`JournalEntry.progress`). Resolves once written; never throws.
   */
  progress: (seq: number, done: number) => Promise<void>
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

/** An entry being processed: whether a run made for it started, or was refused. */
interface Tracked { seq: number, started: boolean, refused: boolean }

export interface InboxDeps {
  journal: Journal
  dedupe: DedupeStore
  clock: Clock
  logger: Logger
  /** The service's claim gate: shut at shutdown, after which no entry is started (nor finished). */
  gate: ClaimGate
}

export function createInbox (deps: InboxDeps): Inbox {
  const { journal, dedupe, clock, logger, gate } = deps
  const handlers = new Map<JournalKind, InboxHandler>()
  const running = new Set<Promise<void>>()
  /** Keys whose entry is being written (a concurrent copy is a duplicate of it). */
  const recording = new Set<string>()
  let started = false
  let stopped = false
  let closed = false
  // An entry on disk whose key never reached the dedupe file (killed between the journal's flush and
  // the dedupe write, before the answer): the sender sends it again, and it must be a duplicate of
  // the replay, not a second copy.
  for (const entry of journal.pending()) dedupe.checkAndRemember(`${entry.kind}:${entry.key}`, clock.now())

  // Entries whose handler is done but which wait for a shared promise before they are decided
  // (FinishAfter): only a number each, one group and one reaction per promise (ADR 0048). The number
  // is the seq of an entry to finish, minus the seq of one a run was refused (left for the replay),
  // or 0 for one whose run started (done already; it still counts as in flight until then).
  const waiting = new Map<PromiseLike<unknown>, number[]>()
  let waitingEntries = 0

  function finishAfter (after: PromiseLike<unknown>, seq: number): void {
    // seq: see `waiting`.
    const group = waiting.get(after)
    if (group !== undefined) {
      group.push(seq)
      waitingEntries++
      return
    }
    const seqs = [seq]
    waiting.set(after, seqs)
    waitingEntries++
    const settle = (err?: unknown): void => {
      waiting.delete(after)
      waitingEntries -= seqs.length
      if (err !== undefined) logger.error({ err, entries: seqs.length }, 'inbox: processing failed')
      // As when a handler settles without a run: finished unless the service is stopping.
      for (const s of seqs) {
        if (s > 0 && !stopped && !gate.isShut) journal.markFinished(s)
        else if (s !== 0) logger.info({ seq: Math.abs(s) }, 'inbox: entry not started; it is replayed at the next start')
      }
    }
    const done = Promise.resolve(after).then(() => { settle() }, (err: unknown) => { settle(err ?? new Error('rejected')) })
    running.add(done)
    done.finally(() => running.delete(done)).catch(() => {})
  }

  // Handlers start on the next turn of the event loop, all of one turn together: the acknowledgement
  // of an entry (and of every entry its group commit made durable with it) is sent before any
  // handler's own work, instead of after the handlers of the entries before it (ADR 0036).
  let nextTurn: Array<() => void> = []
  function afterThisTurn (): Promise<void> {
    return new Promise<void>((resolve) => {
      if (nextTurn.push(resolve) > 1) return
      setImmediate(() => {
        const due = nextTurn
        nextTurn = []
        for (const fn of due) fn()
      })
    })
  }

  /** Claims this inbox made, by the entries they stand for (an album's joined claim: several). */
  const claimed = new WeakMap<WorkClaim, Tracked[]>()

  /**
   * The claim of `items`: `started()` writes all their done marks as one journal record (see
   * Journal.markStarted), so they start together or stay for the replay together.
   */
  function claimOf (items: Tracked[]): WorkClaim {
    const mark = gate.claim(async () => { await journal.markStarted(items.map((i) => i.seq)) })
    const claim: WorkClaim = {
      async started (first) {
        try {
          await mark.started(first)
          for (const item of items) item.started = true
        } catch (err) {
          // Replayed only while a done mark is not written: a retry refused after an attempt that
          // started (its CLI killed) is not run again, and must not say it will be.
          if (err instanceof ClaimRefused && items.some((i) => !i.started)) err.replayed = true
          for (const item of items) item.refused = true
          throw err
        }
      },
      joinWith (claims) {
        const all = claims.map((c) => claimed.get(c))
        if (all.some((items) => items === undefined)) return undefined
        return claimOf([...new Set(all.flatMap((items) => items ?? []))])
      }
    }
    claimed.set(claim, items)
    return claim
  }

  function dispatch (entry: JournalEntry): void {
    const handler = handlers.get(entry.kind)
    if (handler === undefined || stopped) return
    const { kind, key, seq } = entry
    const item: Tracked = { seq, started: false, refused: false }
    // The entry (and its payload) and its claim are handed to the handler and not held here while
    // the handler runs: a webhook's handler waits up to a second for its trigger count, and
    // thousands of payloads and claims held that long under load made every young-generation GC
    // copy them (ADR 0036, ADR 0041). Only `item` is needed to finish the entry.
    let handOver: JournalEntry | undefined = entry
    const startHandler = (): ReturnType<InboxHandler> => {
      const given = handOver as JournalEntry
      handOver = undefined
      return handler(given, claimOf([item]))
    }
    const work = (async () => {
      let finished = false
      let deferred = false
      try {
        await afterThisTurn()
        // Stopped meanwhile: the entry stays unfinished (the finally below), replayed at the next start.
        if (stopped) return
        const outcome = await startHandler()
        if (typeof outcome === 'object' && outcome !== null) {
          // Decided once `after` settles; this frame (and the handler's) ends now.
          finishAfter(outcome.after, item.started ? 0 : item.refused ? -seq : seq)
          deferred = true
          return
        }
        finished = outcome === 'finished'
      } catch (err) {
        logger.error({ err, kind, key, seq }, 'inbox: processing failed')
      } finally {
        handOver = undefined
        // Finished only when no run took it and none was refused it; at shutdown an entry that did not
        // start stays for the replay (its handler may have given up only because the service stops).
        if (deferred) {
          // Decided when its promise settles (finishAfter).
        } else if (!item.started && !item.refused && ((finished && !closed) || (!stopped && !gate.isShut))) journal.markFinished(seq)
        else if (!item.started) logger.info({ kind, key, seq }, 'inbox: entry not started; it is replayed at the next start')
      }
    })()
    running.add(work)
    work.finally(() => running.delete(work)).catch(() => {})
  }

  return {
    async accept (kind, key, payload, also = [], opts = {}) {
      const keys = also.filter((a) => a.remember !== false).map((a) => ({ key: `${kind}:${a.key}`, ttlMs: a.ttlMs as number | undefined }))
      if (opts.remember !== false) keys.unshift({ key: `${kind}:${key}`, ttlMs: undefined })
      const now = clock.now()
      if (keys.some((k) => recording.has(k.key) || dedupe.has(k.key, now))) return { status: 'duplicate', seq: null }
      if (also.some((a) => a.remember === false && (recording.has(`${kind}:${a.key}`) || dedupe.has(`${kind}:${a.key}`, now)))) return { status: 'duplicate', seq: null }
      // The keys are remembered on disk only once the entry is: a crash in between must not turn the
      // sender's retry into a "duplicate" of something that was never saved.
      for (const k of keys) recording.add(k.key)
      let seq: number
      try {
        ({ seq } = await journal.append({ kind, key, payload, ...(opts.encoded !== undefined && { encoded: opts.encoded }) }))
        for (const k of keys) dedupe.checkAndRemember(k.key, clock.now(), k.ttlMs)
      } finally {
        for (const k of keys) recording.delete(k.key)
      }
      dispatch({ kind, key, payload, seq, accepted_at: new Date(clock.now()).toISOString() })
      return { status: 'accepted', seq }
    },
    progress: async (seq, done) => { await journal.markProgress(seq, done) },
    handle (kind, handler) { handlers.set(kind, handler) },
    async start () {
      if (started) return 0
      started = true
      const pending = journal.pending()
      if (pending.length > 0) logger.info({ entries: pending.length }, 'inbox: replaying entries left unfinished by the last run')
      for (const entry of pending) dispatch(entry)
      return pending.length
    },
    // A group waiting for its promise is one of `running`; its entries count one each.
    inFlight: () => running.size - waiting.size + waitingEntries,
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
      closed = true
      await journal.close()
      await dedupe.close()
    }
  }
}

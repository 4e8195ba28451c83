import { randomUUID } from 'node:crypto'
import type { Api } from 'grammy'
import type { Logger } from '../logger-types.ts'
import type { ChatSink, DeliveryEvent } from '../core/sink.ts'
import type { Inbox } from '../store/inbox.ts'
import type { JournalEntry } from '../store/journal.ts'
import { deliveryText } from './chat-sink.ts'
import { extractMarkers } from './format/markers.ts'
import { markdownParts, sendMarkdown } from './send.ts'
import { sendFiles, type FileAccess } from './files-out.ts'
import { classifyApiError } from './stream/api-errors.ts'

/**
 * Automation results (cron jobs, `cron_task` webhooks, the heartbeat) are durable until Telegram took
 * them (ADR 0044). The user cannot ask for them again, so a result is not sent straight from the
 * run: it is journaled in the inbox (kind `delivery`, `state/inbox.jsonl`) and its handler sends it,
 * retrying with backoff while the Bot API is unreachable, answers 5xx or 429 (its `retry_after`), or
 * refuses the token (fixed by a restart) — for up to `giveUpMs` after the result was made. An entry
 * still unsent when the service stops is sent by the next start. Telegram refusing the message itself
 * (400, 403: the user blocked the bot) is final. Results for one chat go out in the order they came.
 * A part of a long result that was sent is not sent again, also not by the next start: each part (and
 * file) Telegram took is recorded in the entry's journal line (`JournalEntry.progress`, ADR 0050), so
 * a stop or crash between parts leaves only the rest to send; only the part in flight at a crash can
 * arrive twice (at least once, never lost).
 */

interface DeliveryPayload {
  chat_id: number
  event: DeliveryEvent
}

export interface DeliveryRetry {
  /** First wait after a failure; doubles up to `maxMs`. */
  firstMs: number
  maxMs: number
  /** Given up this long after the result was accepted (across restarts). */
  giveUpMs: number
}

const defaultDeliveryRetry: DeliveryRetry = { firstMs: 1000, maxMs: 5 * 60_000, giveUpMs: 24 * 3_600_000 }

export interface DeliveriesOptions {
  api: Api
  inbox: Pick<Inbox, 'handle' | 'accept' | 'progress'>
  logger: Logger
  fileAccess: () => FileAccess
  /** Resolves once the bot knows itself (getMe); until then results wait. */
  ready: Promise<void>
  /** Aborted when the service stops: unsent results stay in the journal for the next start. */
  stopping: AbortSignal
  /** Told of each result being handled, so that a stop lets those under way finish (TelegramBot.flush). */
  track?: (handling: Promise<void>) => void
  retry?: DeliveryRetry
  now?: () => number
}

export interface Deliveries {
  /** The chat's default sink with its `delivery` events made durable (everything else goes to `sink`). */
  durable: (chatId: number, sink: ChatSink) => ChatSink
  /**
   * The service begins to stop: no more retries; a result whose send is under way (or can go now)
   * goes out during the flush, one that failed stays in the journal for the next start.
   */
  drain: () => void
}

export function createDeliveries (opts: DeliveriesOptions): Deliveries {
  const { api, logger } = opts
  // Aborted by drain() or by the service's stop, whichever comes first.
  const halt = new AbortController()
  const stopping = halt.signal
  if (opts.stopping.aborted) halt.abort()
  else opts.stopping.addEventListener('abort', () => { halt.abort() }, { once: true })
  const retry = opts.retry ?? defaultDeliveryRetry
  const now = opts.now ?? Date.now
  let isReady = false
  opts.ready.then(() => { isReady = true }, () => {})
  /** The last delivery of each chat, so that the next waits for it (order kept while retrying). */
  const tails = new Map<number, Promise<unknown>>()

  // One listener on the service's signal for every waiting result (there may be thousands), not one each.
  const sleepers = new Set<() => void>()
  const stopped = new Promise<void>((resolve) => {
    if (stopping.aborted) resolve()
    else stopping.addEventListener('abort', () => { resolve(); for (const wake of sleepers) wake() }, { once: true })
  })
  /** Waits `ms`, or less when the service stops. */
  const pause = async (ms: number): Promise<void> => {
    await new Promise<void>((resolve) => {
      if (stopping.aborted) return resolve()
      const wake = (): void => { clearTimeout(timer); sleepers.delete(wake); resolve() }
      const timer = setTimeout(wake, ms)
      sleepers.add(wake)
    })
  }

  /** Runs `fn` until it succeeds, a refusal is final, the deadline passes or the service stops. */
  const persistent = (where: { chatId: number, ref: string }, deadline: number) => async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn()
        if (attempt > 1) logger.info({ ...where, attempts: attempt }, 'automation result delivered after retrying')
        return result
      } catch (err) {
        if (stopping.aborted || !retryable(err)) throw err
        const failure = classifyApiError(err)
        const waitMs = failure.kind === 'rate_limited' ? failure.retryAfterMs : Math.min(retry.maxMs, retry.firstMs * 2 ** (attempt - 1))
        if (now() + waitMs > deadline) throw err
        logger.warn({ ...where, attempt, retryInMs: waitMs, reason: describe(err) }, 'automation result not delivered yet; retrying')
        await pause(waitMs)
        if (stopping.aborted) throw err
      }
    }
  }

  /**
   * Sends the result's parts, then its files, skipping the first `done` of these steps (an earlier
   * life sent them). Each step Telegram took is recorded before the next goes (`seq` -1: not journaled).
   */
  async function send (payload: DeliveryPayload, acceptedAt: number, seq: number, done: number): Promise<void> {
    const where = { chatId: payload.chat_id }
    const ref = payload.event.runId ?? payload.event.ref ?? payload.event.source
    const { text, buttons, files } = extractMarkers(deliveryText(payload.event))
    const record = async (steps: number): Promise<void> => { if (seq >= 0) await opts.inbox.progress(seq, steps) }
    const parts = markdownParts(text, buttons).length
    const steps = parts + files.length
    // The last step needs no mark: the done mark follows it.
    const sent = async (step: number): Promise<void> => { if (step < steps) await record(step) }
    if (done < parts) {
      await sendMarkdown(api, where, text, {
        ...(buttons.length > 0 ? { buttons } : {}),
        retry: persistent({ chatId: where.chatId, ref }, acceptedAt + retry.giveUpMs),
        skip: done,
        onSent: sent
      })
    }
    for (const [i, file] of files.entries()) {
      if (parts + i < done) continue
      await sendFiles(api, where, [file], opts.fileAccess(), logger)
      await sent(parts + i + 1)
    }
  }

  async function handle (entry: Pick<JournalEntry, 'payload' | 'seq' | 'key' | 'accepted_at' | 'progress'>): Promise<void | 'finished'> {
    const payload = parsePayload(entry.payload)
    if (payload === null) {
      logger.error({ seq: entry.seq, key: entry.key }, 'an automation result in the journal is not readable; dropped')
      return 'finished'
    }
    const chatId = payload.chat_id
    const before = tails.get(chatId) ?? Promise.resolve()
    const mine = (async (): Promise<void | 'finished'> => {
      await before.catch(() => {})
      await Promise.race([opts.ready, stopped])
      // Draining (the stop's flush): one try for a result that can go now, no retries.
      if (opts.stopping.aborted || !isReady) return
      const acceptedAt = Date.parse(entry.accepted_at)
      try {
        await send(payload, Number.isFinite(acceptedAt) ? acceptedAt : now(), entry.seq, entry.progress ?? 0)
        return 'finished'
      } catch (err) {
        // Stopping: left unfinished in the journal, sent by the next start.
        if (stopping.aborted) return
        const { event } = payload
        logger.error({ err, chatId, source: event.source, ref: event.ref, runId: event.runId }, `gave up delivering an automation result to chat ${chatId}: ${describe(err)}; it stays in the run history${event.runId === null ? '' : ` (ductor runs show ${event.runId})`}`)
        return 'finished'
      }
    })()
    tails.set(chatId, mine)
    opts.track?.(mine.then(() => {}, () => {}))
    mine.finally(() => { if (tails.get(chatId) === mine) tails.delete(chatId) }).catch(() => {})
    return await mine
  }
  opts.inbox.handle('delivery', async (entry) => await handle(entry))

  function accept (chatId: number, event: DeliveryEvent): void {
    const payload: DeliveryPayload = { chat_id: chatId, event }
    opts.inbox.accept('delivery', `${event.runId ?? randomUUID()}:${chatId}`, payload, [], { remember: false })
      .catch((err: unknown) => {
        // Not journaled (a full disk): sent from memory with the same retries, lost only if the service stops first.
        logger.error({ err, chatId, source: event.source, ref: event.ref }, 'could not journal an automation result; sending it without a journal')
        handle({ key: '', payload, seq: -1, accepted_at: new Date(now()).toISOString() }).catch(() => {})
      })
  }

  return {
    durable: (chatId, sink) => ({
      emit (event) {
        if (event.type === 'delivery') accept(chatId, event)
        else sink.emit(event)
      }
    }),
    drain () { halt.abort() }
  }
}

/** Whether a later try can succeed: no answer at all, Telegram's 5xx or 429, or a token it does not know (yet). */
function retryable (err: unknown): boolean {
  const code = (err as { error_code?: unknown }).error_code
  if (typeof code !== 'number') return true
  return code === 429 || code >= 500 || code === 401 || code === 404
}

function describe (err: unknown): string {
  const e = err as { error_code?: unknown, description?: unknown, message?: unknown }
  if (typeof e.error_code === 'number') return `Telegram answered ${e.error_code}${typeof e.description === 'string' ? ` (${e.description})` : ''}`
  return String(e.message ?? err).split('\n')[0] ?? 'unknown error'
}

function parsePayload (value: unknown): DeliveryPayload | null {
  const p = value as Partial<DeliveryPayload> | null
  if (typeof p !== 'object' || p === null || typeof p.chat_id !== 'number' || !Number.isSafeInteger(p.chat_id)) return null
  const e = p.event as Partial<DeliveryEvent> | undefined
  if (typeof e !== 'object' || e === null || e.type !== 'delivery' || typeof e.text !== 'string' || typeof e.status !== 'string') return null
  if (e.source !== 'cron' && e.source !== 'webhook' && e.source !== 'heartbeat') return null
  return { chat_id: p.chat_id, event: { type: 'delivery', source: e.source, ref: e.ref ?? null, title: e.title ?? null, text: e.text, status: e.status, runId: e.runId ?? null } }
}

import { setTimeout as sleepMs } from 'node:timers/promises'
import { systemClock } from '../../clock.ts'
import type { Clock } from '../../clock.ts'
import type { Logger } from '../../logger-types.ts'
import { escapeHtml } from '../format/html.ts'
import { createLiveMarkerStripper, extractMarkers } from '../format/markers.ts'
import { createMarkdownRenderer } from '../format/markdown.ts'
import { createHtmlSplitter, splitHtml } from '../format/split.ts'
import { RateLimitedError } from './api-errors.ts'
import { createAppendSync } from './append-sync.ts'
import { createChatWriter, WriteFailedError } from './chat-writer.ts'
import { createLiveState } from './live-state.ts'
import { defaultStreamingSettings } from './types.ts'
import type { InlineKeyboardMarkup, StreamBotApi, StreamEvent, StreamingSettings, StreamOutcome } from './types.ts'

/**
 * Streams one CLI run into a Telegram chat (SPEC §7.2). Events go in with `push`; a single worker
 * turns the latest state into Bot API calls, never more often than `edit_interval_seconds`, so
 * everything that arrives in between is coalesced into the next edit.
 *
 * Modes: `edit` (default) keeps one message per 4096 characters and edits it in place; `draft`
 * shows the live part with sendMessageDraft (private chats) and sends real messages only for
 * full parts and the final reply; `append` (append_mode, or after `max_edit_failures` failed edits
 * in a row) sends finished chunks as new messages (cut at sentence ends with sentence_break). Whatever the mode, when the run ends the chat
 * holds exactly the final reply, rendered, with its buttons on the last message.
 */

export interface StreamEditorOptions {
  api: StreamBotApi
  chatId: number
  threadId?: number
  replyToMessageId?: number
  /** Use sendMessageDraft for the live part; honoured only in private chats (positive chat id). */
  useDrafts?: boolean
  settings?: Partial<StreamingSettings>
  clock?: Clock
  /** Waits `ms` (ended early when `signal` aborts); tests pass a virtual one. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /**
   * Milliseconds until the chat may take one more message at Telegram's pace (src/telegram/pace.ts),
   * keeping `reserve` of a group's per-minute budget free; 0 = now. Default: no pacing of its own.
   */
  pace?: (reserve: number) => number
  /** Calls `fn` after `ms` unless cancelled; tests pass a virtual one. */
  setTimer?: (ms: number, fn: () => void) => () => void
  /** Bound to the chat (its lines carry `chatId` already). */
  logger?: Logger
  draftId?: number
  /**
   * Aborted when the Telegram adapter closes: the stream ends as with `cancel()`. Without it a
   * final reply that could no longer be sent kept retrying with backoff (up to 8 tries, 30 s apart)
   * after the service had closed.
   */
  signal?: AbortSignal
}

export interface StreamEditor {
  push: (event: StreamEvent) => void
  /** Ends the stream (with `finalText`, else the result event's text, else what streamed). */
  finish: (finalText?: string) => Promise<StreamOutcome>
  /**
   * The user stopped the run: what streamed so far becomes the final reply, labelled as a partial
   * answer (nothing when nothing streamed). Resolves once it is shown; a stream already finishing
   * just completes. Nothing is sent for this stream afterwards. `label` (Markdown) replaces the
   * "Stopped" label, e.g. for an attempt the OOM killer cut off.
   */
  stop: (label?: string) => Promise<StreamOutcome>
  /** Stops without a final update (shutdown); a pending finish() resolves undelivered. */
  cancel: () => void
}

/** A draft fades after about 30 s without an update. */
const draftKeepAliveMs = 20_000
/**
 * Live edits leave this much of a group's per-minute budget (20 messages) to the final reply, so the
 * final text is not held up behind edits that were only previews.
 */
const liveReserve = 3
/** Appended to what streamed when the user stops the run. */
const partialLabel = '_⏹ Stopped: partial answer._'
/** Longest pause between two attempts after failures. */
const maxBackoffMs = 30_000
/** Failed attempts at the final update before giving up (about two minutes with backoff). */
const finalAttempts = 8
/** Shown when a reply has buttons but no text (Telegram needs some text). */
const buttonsOnlyText = '👇'

function defaultTimer (ms: number, fn: () => void): () => void {
  const t = setTimeout(fn, ms)
  t.unref()
  return () => clearTimeout(t)
}

export function createStreamEditor (options: StreamEditorOptions): StreamEditor {
  const settings = { ...defaultStreamingSettings, ...options.settings }
  const clock = options.clock ?? systemClock
  const sleep = options.sleep ?? (async (ms: number, signal?: AbortSignal) => { await sleepMs(ms, undefined, signal !== undefined ? { signal } : {}).catch(() => {}) })
  const pace = options.pace ?? (() => 0)
  const setTimer = options.setTimer ?? defaultTimer
  const { logger } = options
  const intervalMs = settings.edit_interval_seconds * 1000

  const live = createLiveState()
  // Each live edit renders the reply so far; these three keep what earlier edits did, so an edit
  // costs the new text, not the whole reply (docs/benchmarks.md, P3 cost growth).
  const renderer = createMarkdownRenderer()
  const stripper = createLiveMarkerStripper()
  const splitter = createHtmlSplitter()
  const writer = createChatWriter({
    api: options.api,
    chatId: options.chatId,
    ...(options.threadId !== undefined ? { threadId: options.threadId } : {}),
    ...(options.replyToMessageId !== undefined ? { replyToMessageId: options.replyToMessageId } : {}),
    draftId: options.draftId ?? 1 + Math.floor(Math.random() * 0x7ffffffe),
    ...(logger !== undefined ? { logger } : {})
  })
  const append = createAppendSync({ writer, minChars: settings.min_chars, maxChars: settings.max_chars, sentenceBreak: settings.sentence_break !== false })

  let mode: 'edit' | 'draft' | 'append' = settings.append_mode
    ? 'append'
    : options.useDrafts === true && options.chatId > 0 && options.api.sendMessageDraft !== undefined ? 'draft' : 'edit'
  let degraded = false
  let abandoned: number[] = []
  let phase: 'live' | 'final' | 'done' = 'live'
  let finalText: string | null = null
  /** Earliest next write: the edit interval after the last one. */
  let nextAt = 0
  /** No write before this: a 429's retry_after, or a backoff after failures. */
  let blockedUntil = 0
  let lastTextAt = clock.now()
  let finalFailures = 0
  let dirty = false
  let running = false
  let draftStale = false
  let cancelIdle: (() => void) | null = null
  let cancelKeepAlive: (() => void) | null = null
  /** Aborted to end the worker's wait early: the final text, a stop or an error does not wait for the edit interval. */
  let wakeUp = new AbortController()
  let resolveFinal: (outcome: StreamOutcome) => void = () => {}
  const finalPromise = new Promise<StreamOutcome>((resolve) => { resolveFinal = resolve })

  function clearTimers (): void {
    cancelIdle?.()
    cancelKeepAlive?.()
    cancelIdle = null
    cancelKeepAlive = null
  }

  function kick (): void {
    dirty = true
    if (running || phase === 'done') return
    running = true
    run().catch((err: unknown) => {
      logger?.error({ err }, 'streaming editor crashed')
      finishWith(false, [], [])
    }).finally(() => {
      running = false
      if (dirty && phase !== 'done') kick()
    })
  }

  // phase and dirty change in other callbacks while run() awaits.
  const isDone = (): boolean => phase === 'done'
  const isDirty = (): boolean => dirty

  /**
   * Waits `ms`, or less when `wake()` is called meanwhile (then returns true). A live edit waits for
   * the edit interval; the final reply waits only for Telegram's pace and a 429 or backoff.
   */
  async function waitOrWake (ms: number): Promise<boolean> {
    const signal = wakeUp.signal
    if (signal.aborted) return true
    let onAbort = (): void => {}
    const woken = new Promise<void>((resolve) => { onAbort = resolve })
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await Promise.race([sleep(ms, signal), woken])
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    return signal.aborted
  }

  function wake (): void {
    wakeUp.abort()
  }

  async function run (): Promise<void> {
    while (isDirty() && !isDone()) {
      const now = clock.now()
      const final = phase === 'final'
      const wait = Math.max(final ? 0 : nextAt - now, blockedUntil - now, pace(final ? 0 : liveReserve))
      // Woken (the final text, a stop or an error arrived while a live edit waited): look again,
      // with the final's rules.
      if (wait > 0 && await waitOrWake(wait)) {
        wakeUp = new AbortController()
        continue
      }
      if (isDone()) return
      dirty = false
      try {
        const wrote = phase === 'final' ? await flushFinal() : await flushLive()
        if (wrote) nextAt = clock.now() + intervalMs
      } catch (err) {
        if (err instanceof RateLimitedError) {
          logger?.info({ retryAfterMs: err.retryAfterMs }, 'telegram rate limit; coalescing')
          blockedUntil = clock.now() + err.retryAfterMs
          dirty = true
        } else if (err instanceof WriteFailedError) {
          onWriteFailed()
        } else {
          throw err
        }
      }
    }
  }

  function onWriteFailed (): void {
    const failures = Math.max(1, phase === 'final' ? finalFailures + 1 : writer.failures())
    blockedUntil = clock.now() + Math.min(maxBackoffMs, intervalMs * 2 ** (failures - 1))
    dirty = true
    if (mode !== 'append' && writer.failures() >= settings.max_edit_failures) {
      logger?.warn({ failures: writer.failures() }, 'edits keep failing; sending new messages instead')
      degraded = true
      mode = 'append'
      abandoned = writer.dropFrom(0)
    }
    if (phase === 'final' && ++finalFailures >= finalAttempts) {
      logger?.error('could not deliver the final reply to Telegram')
      finishWith(false, [], [])
    }
  }

  function liveParts (): string[] {
    const md = stripper.strip(live.text())
    const html = md === '' ? '' : renderer.render(md, { streaming: true })
    const status = live.status()
    const full = [html, status === '' ? '' : `<i>${escapeHtml(status)}</i>`].filter((s) => s !== '').join('\n\n')
    return splitter.split(full)
  }

  async function flushLive (): Promise<boolean> {
    if (!settings.enabled) return false
    if (mode === 'append') {
      // All but the block being written go whole: a block can only change while it is among the
      // last two, and if the second-to-last does change after all, the final reconcile replaces its
      // chunk. The block being written (rendered healed, so an open emphasis is not cut) goes up to
      // its last finished sentence with sentence_break.
      const { frozen, open } = renderer.renderBlocks(stripper.strip(live.text()), { streaming: true })
      return await append.live([...frozen, ...open.slice(0, -1)], open[open.length - 1], clock.now() - lastTextAt >= settings.idle_ms)
    }
    const parts = liveParts()
    const shown = mode === 'draft' ? parts.slice(0, -1) : parts
    let wrote = false
    for (const [i, html] of shown.entries()) wrote = (await writer.show(i, { html })) || wrote
    if (mode === 'draft' && parts.length > 0) {
      try {
        const sent = await writer.draft(parts[parts.length - 1] as string, draftStale)
        draftStale = false
        if (sent) {
          wrote = true
          cancelKeepAlive?.()
          cancelKeepAlive = setTimer(draftKeepAliveMs, () => { draftStale = true; kick() })
        }
      } catch (err) {
        if (!(err instanceof WriteFailedError)) throw err
        logger?.warn({ err: err.message }, 'drafts unavailable; editing a message instead')
        mode = 'edit'
        dirty = true
      }
    }
    return wrote
  }

  async function flushFinal (): Promise<boolean> {
    const { text, buttons, files } = extractMarkers(finalText ?? '')
    const markup: InlineKeyboardMarkup | undefined = buttons.length > 0 ? { inline_keyboard: buttons } : undefined
    if (mode === 'append') {
      const { frozen, open } = renderer.renderBlocks(text)
      const blocks = [...frozen, ...open]
      await append.final(blocks.length === 0 && markup !== undefined ? [buttonsOnlyText] : blocks, markup)
    } else {
      let parts = splitHtml(renderer.render(text))
      if (parts.length === 0 && markup !== undefined) parts = [buttonsOnlyText]
      for (const [i, html] of parts.entries()) {
        await writer.show(i, { html, ...(i === parts.length - 1 && markup !== undefined ? { markup } : {}) })
      }
      writer.deleteLater(writer.dropFrom(parts.length))
    }
    writer.deleteLater(abandoned)
    abandoned = []
    await writer.flushDeletes()
    finishWith(true, files, buttons)
    return true
  }

  function finishWith (delivered: boolean, files: string[], buttons: StreamOutcome['buttons']): void {
    if (phase === 'done') return
    phase = 'done'
    clearTimers()
    options.signal?.removeEventListener('abort', cancel)
    resolveFinal({ messageIds: writer.messages.map((m) => m.id), files, buttons, delivered, degraded })
  }

  function startFinal (text: string): void {
    if (phase !== 'live') return
    finalText = text
    phase = 'final'
    clearTimers()
    kick()
    wake()
  }

  function cancel (): void {
    finishWith(false, [], [])
    wake()
  }
  if (options.signal?.aborted === true) cancel()
  else options.signal?.addEventListener('abort', cancel, { once: true })

  return {
    push (event) {
      if (phase !== 'live') return
      if (event.type === 'result') {
        startFinal(event.result.text.trim() !== '' ? event.result.text : live.text())
        return
      }
      if (!live.apply(event)) return
      if (event.type === 'text') {
        lastTextAt = clock.now()
        if (mode === 'append') {
          cancelIdle?.()
          cancelIdle = setTimer(settings.idle_ms, kick)
        }
      }
      kick()
    },
    async finish (text) {
      startFinal(text ?? live.text())
      return await finalPromise
    },
    async stop (label = partialLabel) {
      const partial = live.text()
      startFinal(partial.trim() === '' ? '' : `${partial.trimEnd()}\n\n${label}`)
      return await finalPromise
    },
    cancel
  }
}

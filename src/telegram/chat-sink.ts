import type { Api } from 'grammy'
import type { Config } from '../config.ts'
import type { Logger } from '../logger-types.ts'
import type { ChatEvent, ChatSink, DeliveryEvent, RunSummary } from '../core/sink.ts'
import type { CommandReply } from '../core/commands.ts'
import { extractMarkers, type InlineButton } from './format/markers.ts'
import { createStreamEditor, type StreamEditor } from './stream/stream-editor.ts'
import type { StreamBotApi, StreamEvent } from './stream/types.ts'
import type { ChatTarget } from './context.ts'
import { sendMarkdown, threadParams, withRetry } from './send.ts'
import { sendFiles, type FileAccess } from './files-out.ts'
import { startTyping } from './typing.ts'
import { cancelButtonData } from './callback-data.ts'
import { SHUTDOWN_STOP_MESSAGE } from '../providers/outcome.ts'
import type { QueuedNotes } from './queued-notes.ts'

/** Ends the streamed text of a CLI attempt that was killed and is run again (ADR 0050 §2). */
const cutOffLabel = '_✂️ Cut off: the agent stopped before it finished this answer._'

export interface TelegramSinkOptions {
  /** Told of every chat update still being sent, so that a shutdown can let them finish. */
  track?: (sending: Promise<void>) => void
  api: Api
  streamApi: StreamBotApi
  where: ChatTarget
  /** The user's message this answers (queued indicators reply to it; group replies too). */
  replyTo?: number
  config: () => Config
  fileAccess: () => FileAccess
  /** Whether sendMessageDraft may be tried (private chats; off once Telegram refused it). */
  useDrafts: () => boolean
  /** The chats' running streams, so a /stop can end them before it answers (one per bot). */
  streams: ChatStreams
  /** Milliseconds until the chat may take one more message (src/telegram/pace.ts). */
  pace?: (chatId: number, reserve: number) => number
  /**
   * A run the service's shutdown stopped: its chat is told by the next start (src/telegram/cut-off.ts),
   * not now. Without it the notice is sent at once.
   */
  cutOff?: (chatId: number) => Promise<void>
  /**
   * Aborted when the service begins to stop: the queued-message indicators (sent, edited) are then
   * dropped, also those waiting for the chat's pace, so that replies and notices get the few seconds
   * of the stop. A queued message is replayed and answered after the restart: its "Queued" indicator
   * stays until the next start deletes it (`notes`).
   */
  cosmetic?: AbortSignal
  /**
   * Where the queued notes shown and resolved are recorded, so that the next start cleans up those a
   * crash or a stop left (src/telegram/queued-notes.ts).
   */
  notes?: Pick<QueuedNotes, 'shown' | 'resolved'>
  /** Aborted when the adapter has closed: a stream still running ends (StreamEditorOptions.signal). */
  closed?: AbortSignal
  /** Bound to the chat: its lines carry `chatId` (and the component) already; the calls here do not add it again. */
  logger: Logger
}

/**
 * The running streams of every chat. A stop in a chat (`/stop`, an abort word) first ends them —
 * what streamed becomes the final message, labelled as a partial answer — and only then is
 * "Stopped." sent: nothing of the stopped run comes after the notice.
 */
export interface ChatStreams {
  add: (chatId: number, stop: () => Promise<void>) => () => void
  stopAll: (chatId: number) => Promise<void>
}

export function createChatStreams (): ChatStreams {
  const byChat = new Map<number, Set<() => Promise<void>>>()
  return {
    add (chatId, stop) {
      const set = byChat.get(chatId) ?? new Set()
      set.add(stop)
      byChat.set(chatId, set)
      return () => {
        set.delete(stop)
        if (set.size === 0 && byChat.get(chatId) === set) byChat.delete(chatId)
      }
    },
    async stopAll (chatId) {
      await Promise.all([...byChat.get(chatId) ?? []].map(async (stop) => { await stop() }))
    }
  }
}

/**
 * The Telegram side of one message (SPEC §4, §7.2): queued indicators with a Cancel button, typing
 * while the run is active, the streamed reply, command answers, notices, files, and automation
 * deliveries. Events are handled in order; a failing Bot API call is logged, never thrown.
 */
export function createTelegramSink (opts: TelegramSinkOptions): ChatSink {
  const { api, where, logger } = opts
  const indicators = new Map<string, number>()
  let editor: StreamEditor | null = null
  let stopTyping: (() => void) | null = null
  let unregister: (() => void) | null = null
  /** The user stopped this message's run: its stream was ended with the partial answer. */
  let stopped = false
  /**
   * After a `retrying` event: the new attempt's stream events, held until the killed attempt's text
   * is shown as cut off and the notice after it is sent; then they go to a new stream editor, so the
   * new attempt's reply is a message of its own below both (null: none held).
   */
  let held: StreamEvent[] | null = null
  let resumeQueued = false
  let chain: Promise<void> = Promise.resolve()
  const later = (what: string, fn: () => Promise<unknown>): void => {
    chain = chain.then(fn).then(() => {}, (err: unknown) => {
      if (opts.cosmetic?.aborted === true && (what === 'queued' || what === 'discarded')) return // dropped at shutdown
      logger.warn({ err, what }, 'telegram: could not update the chat')
    })
    opts.track?.(chain)
  }
  // grammY types its AbortSignal with the abort-controller polyfill's declarations; it is the same object.
  const grammySignal = opts.cosmetic as unknown as Parameters<Api['sendMessage']>[3]
  const replyParams = (): Record<string, unknown> => opts.replyTo !== undefined ? { reply_parameters: { message_id: opts.replyTo, allow_sending_without_reply: true } } : {}
  const send = async (markdown: string, buttons?: InlineButton[][]): Promise<void> => {
    const { text, buttons: marked, files } = extractMarkers(markdown)
    const rows = [...(buttons ?? []), ...marked]
    await sendMarkdown(api, where, text, rows.length > 0 ? { buttons: rows } : {})
    if (files.length > 0) await sendFiles(api, where, files, opts.fileAccess(), logger)
  }

  const cutOffByShutdown = (summary: RunSummary): boolean => opts.cutOff !== undefined && summary.status === 'error:aborted' && summary.error === SHUTDOWN_STOP_MESSAGE

  /** A stream event of the run: to its editor, or held while a killed attempt's text is being ended. */
  function toEditor (event: StreamEvent): void {
    if (held === null) {
      editor?.push(event)
      return
    }
    held.push(event)
    if (resumeQueued) return
    resumeQueued = true
    // Behind the cut-off attempt's end and the notice that followed it (the chain keeps the order).
    later('retry', async () => {
      const events = held ?? []
      held = null
      startRun()
      for (const e of events) editor?.push(e)
    })
  }

  /** The run's CLI attempt was killed and runs again: its text so far stays, marked as cut off. */
  function retrying (): void {
    const old = editor
    editor = null
    unregister?.()
    unregister = null
    held = []
    resumeQueued = false
    later('retrying', async () => { await old?.stop(cutOffLabel) })
  }

  async function finish (summary: RunSummary): Promise<void> {
    held = null
    stopTyping?.()
    unregister?.()
    const current = editor
    editor = null
    // Stopped by the user: its partial answer is shown, and "Stopped." said it all.
    if (stopped) return
    // Cut off by the shutdown: recorded when the result came (below); the next start tells the chat.
    if (cutOffByShutdown(summary)) {
      await current?.stop()
      return
    }
    if (summary.status === 'error:aborted' && current !== null) {
      // Stopped another way (the admin API): the partial answer stays, labelled.
      await current.stop()
      if (summary.error === 'Stopped.') return
      await send(`⚠️ ${summary.error ?? 'The agent failed.'}`)
      return
    }
    if (summary.status === 'success') {
      const reply = summary.reply.trim() === '' ? '_(The agent finished without a reply.)_' : summary.reply
      if (current === null) return await send(reply)
      const outcome = await current.finish(reply)
      if (!outcome.delivered) logger.error({ runId: summary.runId }, 'telegram: the final reply could not be delivered')
      if (outcome.files.length > 0) await sendFiles(api, where, outcome.files, opts.fileAccess(), logger)
      return
    }
    if (current !== null) await current.finish()
    // A run the user stopped was already answered by the stop ("Stopped.").
    if (summary.status === 'error:aborted' && summary.error === 'Stopped.') return
    await send(`⚠️ ${summary.error ?? 'The agent failed.'}`)
  }

  function startRun (): void {
    stopTyping?.()
    stopTyping = startTyping(api, where, (opts.config().cli_timeout + 60) * 2000)
    const private_ = where.chatId > 0
    const { pace } = opts
    const current = editor = createStreamEditor({
      api: opts.streamApi,
      chatId: where.chatId,
      ...(where.threadId !== undefined ? { threadId: where.threadId } : {}),
      ...(!private_ && opts.replyTo !== undefined ? { replyToMessageId: opts.replyTo } : {}),
      useDrafts: private_ && opts.useDrafts(),
      settings: opts.config().streaming,
      ...(pace !== undefined ? { pace: (reserve: number) => pace(where.chatId, reserve) } : {}),
      ...(opts.closed !== undefined ? { signal: opts.closed } : {}),
      logger
    })
    unregister?.()
    unregister = opts.streams.add(where.chatId, async () => {
      if (editor !== current) return
      stopped = true
      editor = null
      stopTyping?.()
      unregister?.()
      await current.stop()
    })
  }

  return {
    emit (event: ChatEvent) {
      switch (event.type) {
        case 'queued':
          later('queued', async () => {
            if (opts.cosmetic?.aborted === true) return
            const sent = await withRetry(async () => await api.sendMessage(where.chatId, `⏳ Queued${event.position > 1 ? ` (#${event.position})` : ''}: I will answer this after the current reply.`, {
              ...threadParams(where),
              ...replyParams(),
              reply_markup: { inline_keyboard: [[{ text: 'Cancel', callback_data: cancelButtonData(event.entryId) }]] }
            }, grammySignal))
            indicators.set(event.entryId, sent.message_id)
            opts.notes?.shown({ chatId: where.chatId, messageId: sent.message_id })
          })
          return
        case 'dequeued':
          later('dequeued', async () => {
            const id = indicators.get(event.entryId)
            indicators.delete(event.entryId)
            if (id === undefined) return
            await withRetry(async () => await api.deleteMessage(where.chatId, id))
            opts.notes?.resolved({ chatId: where.chatId, messageId: id })
          })
          return
        case 'discarded':
          later('discarded', async () => {
            const id = indicators.get(event.entryId)
            indicators.delete(event.entryId)
            const text = event.why === 'cancelled'
              ? '✖️ Cancelled.'
              : event.why === 'shutdown' ? '⏸ ductor is restarting: I will answer this once it is back.' : '✖️ Discarded (stopped).'
            // Left as it is at shutdown: the next start cleans it up (it is recorded as unresolved).
            if (id === undefined || opts.cosmetic?.aborted === true) return
            await withRetry(async () => await api.editMessageText(where.chatId, id, text, { reply_markup: { inline_keyboard: [] } }, grammySignal))
            opts.notes?.resolved({ chatId: where.chatId, messageId: id })
          })
          return
        case 'run_started':
          startRun()
          return
        case 'cli':
          toEditor(event.event)
          return
        case 'reply':
          // The CLI has its answer: show it now, not after the process has exited.
          stopTyping?.()
          toEditor({ type: 'result', result: { text: event.text } })
          return
        case 'retrying':
          retrying()
          return
        case 'notice':
          later('notice', async () => { await send(event.level === 'info' ? `_${event.text}_` : `⚠️ ${event.text}`) })
          return
        case 'command':
          later('command', async () => {
            // The stopped run's partial answer goes before "Stopped.", never after it.
            if (event.name === 'stop') await opts.streams.stopAll(where.chatId)
            await sendCommandReply(event.reply)
          })
          return
        case 'result':
          stopTyping?.()
          if (cutOffByShutdown(event.summary)) {
            // At once, not behind this message's earlier updates, which wait for the chat's pace.
            const recording = (opts.cutOff as (chatId: number) => Promise<void>)(where.chatId)
              .catch((err: unknown) => { logger.warn({ err }, 'telegram: could not record the run the shutdown cut off; its chat is not told') })
            opts.track?.(recording)
          }
          later('result', async () => { await finish(event.summary) })
          return
        case 'delivery':
          later('delivery', async () => { await send(deliveryText(event)) })
      }
    }
  }

  async function sendCommandReply (reply: CommandReply): Promise<void> {
    const buttons = reply.buttons?.map((row) => row.map((b) => ({ text: b.label, callback_data: b.data })))
    await send(reply.text, buttons)
  }
}

/** An automation result as the user sees it: titled with the job or hook (SPEC §8.1). */
export function deliveryText (event: DeliveryEvent): string {
  const icon = event.source === 'cron' ? '⏰' : event.source === 'webhook' ? '🔔' : '💓'
  const title = event.title ?? (event.source === 'heartbeat' ? null : event.ref)
  const head = title !== null ? `${icon} **${title.replace(/[*_`[\]]/g, '')}**` : null
  // The status goes after the first paragraph: a failure's text may go on with the agent's reply.
  const cut = event.text.indexOf('\n\n')
  const body = event.status === 'success'
    ? event.text
    : cut === -1 ? `⚠️ ${event.text} (${event.status})` : `⚠️ ${event.text.slice(0, cut)} (${event.status})${event.text.slice(cut)}`
  return head === null ? body : `${head}\n\n${body}`
}

import { homedir } from 'node:os'
import { join } from 'node:path'
import { Bot, type BotError } from 'grammy'
import type { ChatSink } from '../core/sink.ts'
import type { WorkClaim } from '../claims.ts'
import { localParts } from '../tz.ts'
import type { BotDeps, BotOptions } from './bot-deps.ts'
import type { BotContext, ChatTarget } from './context.ts'
import { accessGate } from './features/access.ts'
import { features } from './features/index.ts'
import { commandMenu } from './command-menu.ts'
import { createChatStreams, createTelegramSink } from './chat-sink.ts'
import { createChatPacer, isPacedMethod, type ChatPacer } from './pace.ts'
import { sendMarkdown } from './send.ts'
import { reportFailure, toastText } from './failure.ts'
import { cutOffChats } from './cut-off.ts'
import { queuedNotes, type QueuedNotes } from './queued-notes.ts'
import { createCommandRunner } from '../ops/runner.ts'
import { packageRoot } from '../ops/service-spec.ts'
import { downloadMedia } from './media-in.ts'
import { streamApiFromGrammy } from './stream/grammy-api.ts'
import type { StreamBotApi } from './stream/types.ts'

export interface CreateBotOptions extends BotOptions {
  token: string
  /** Base URL of the Bot API (`telegram.api_root`). */
  apiRoot: string
  /** Per-chat pacing of what the bot sends (default: Telegram's limits, src/telegram/pace.ts). */
  pacer?: ChatPacer
}

/** A grammY API transformer that makes each message-producing call wait for its chat's pace. */
function pacedTransformer (pacer: ChatPacer): Parameters<Bot<BotContext>['api']['config']['use']>[0] {
  return async (prev, method, payload, signal) => {
    const raw = (payload as { chat_id?: unknown } | undefined)?.chat_id
    const chatId = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN
    if (Number.isSafeInteger(chatId) && isPacedMethod(method)) await pacer.acquire(chatId, signal as unknown as AbortSignal | undefined)
    return await prev(method, payload, signal)
  }
}

export interface TelegramBot {
  bot: Bot<BotContext>
  deps: BotDeps
  /** A sink that shows one message's events in a chat (the orchestrator's default sink uses it too). */
  sinkFor: (where: ChatTarget, replyTo?: number) => ChatSink
  /** The queued notes shown and not resolved yet, kept across a crash (src/telegram/queued-notes.ts). */
  notes: QueuedNotes
  /** Makes `flush` wait for `sending` too (a chat update sent outside a sink: an automation result). */
  track: (sending: Promise<void>) => void
  /**
   * Shutdown: waits, at most `ms`, for the chat updates still being sent, then ends the streams still
   * running (a final reply that could not be sent in time is not retried after the close) and lets
   * go of what still waits for its chat's pace (ChatPacer.close).
   */
  flush: (ms: number) => Promise<void>
  /**
   * Runs one update through the features; never throws (errors are logged). `claim` (the inbox's) goes
   * with the update to the access gate (`ctx.ductor.claim`) and from there to the run it makes.
   */
  handleUpdate: (update: unknown, claim?: WorkClaim) => Promise<void>
}

/**
 * The grammY bot: the access gate, then every feature of features/index.ts, inside one error
 * boundary so nothing a user sends can take the process down.
 */
export function createBot (opts: CreateBotOptions): TelegramBot {
  const { parts, config, paths, logger } = opts
  const bot = new Bot<BotContext>(opts.token, { client: { apiRoot: opts.apiRoot } })
  // Every message to a chat — streams, command answers, panels, notices — takes a slot of that chat's
  // pace first (ctx.api inherits bot.api's transformers), so replies in parts never trip a 429.
  const pacer = opts.pacer ?? createChatPacer()
  bot.api.config.use(pacedTransformer(pacer))
  const streamApi = draftAwareApi(streamApiFromGrammy(bot.api))
  /** The inbox's claim of each update being handled, by the update object grammY passes on as ctx.update. */
  const claims = new WeakMap<object, WorkClaim>()
  const streams = createChatStreams()
  /** Aborted by flush(): the adapter is closed, its streams end. */
  const closed = new AbortController()

  /** Chat updates still being sent (a run stopped at shutdown is told so before the process exits). */
  const sending = new Set<Promise<void>>()
  const track = (p: Promise<void>): void => {
    sending.add(p)
    p.finally(() => sending.delete(p)).catch(() => {})
  }
  const cutOff = cutOffChats(paths.state)
  const notes = queuedNotes(paths.state, logger.child({ component: 'telegram' }))
  const sinkFor = (where: ChatTarget, replyTo?: number): ChatSink => createTelegramSink({
    track,
    cutOff: async (chatId) => { await cutOff.add(chatId) },
    cosmetic: parts.claims.shutSignal,
    notes,
    closed: closed.signal,
    api: bot.api,
    streamApi: streamApi.api,
    where,
    ...(replyTo !== undefined ? { replyTo } : {}),
    config,
    fileAccess: () => ({ mode: config().file_access, home: paths.home, userHome: homedir(), workspace: paths.workspace }),
    useDrafts: streamApi.draftsAvailable,
    streams,
    pace: (chatId, reserve) => pacer.delay(chatId, reserve),
    logger: logger.child({ component: 'telegram', chatId: where.chatId })
  })

  const deps: BotDeps = {
    parts,
    config,
    paths,
    logger,
    version: opts.version,
    requestRestart: opts.requestRestart,
    restartable: opts.restartable,
    api: bot.api,
    updates: {
      root: opts.updates?.root ?? packageRoot(),
      runner: opts.updates?.runner ?? createCommandRunner({ env: process.env }),
      firstDelayMs: opts.updates?.firstDelayMs ?? 60_000
    },
    async runAsUser (where, text, o) {
      // Resolves once the message's run has started (or it was answered, cancelled or discarded):
      // until then its update stays unfinished in the inbox, so a message still waiting in the
      // chat's queue when the service dies is replayed at the next start instead of lost.
      let taken: () => void = () => {}
      const begun = new Promise<void>((resolve) => { taken = resolve })
      const sink = sinkFor(where, o.replyTo)
      parts.orchestrator.handleMessage({
        chatId: String(where.chatId),
        text,
        origin: 'telegram',
        sink: { emit (event) { if (event.type === 'run_started') taken(); sink.emit(event) } },
        ...(o.images !== undefined ? { images: o.images } : {}),
        claim: o.claim
      }).catch(async (err: unknown) => { await reportFailure(bot.api, where, err, logger) }).finally(taken)
      await begun
    },
    claimOf: (update) => claims.get(update) ?? parts.claims.claim(),
    sendMarkdown: async (where, markdown, o) => await sendMarkdown(bot.api, where, markdown, o),
    isAllowed: (userId) => userId !== undefined && config().allowed_user_ids.includes(userId),
    commandList: () => commandMenu(parts.orchestrator.commands),
    telegramCommands: new Map(),
    downloadMedia: async (media) => {
      const now = parts.clock.now()
      const day = localParts(now, parts.timezone()).dayKey
      return await downloadMedia(bot.api, { token: opts.token, apiRoot: opts.apiRoot, media, dir: join(paths.telegramFiles, day), now: new Date(now) })
    }
  }

  // A feature that fails (a panel's action, a command the adapter answers itself, media) tells the
  // user: a button press gets its toast, the chat the sentence or an apology (ADR 0044). Only an
  // update the access gate let through is answered: a stranger learns nothing.
  const onError = async (err: BotError<BotContext>): Promise<void> => {
    const { ctx } = err
    const where = (ctx as Partial<BotContext>).ductor
    if (where === undefined) {
      logger.error({ err: err.error, updateId: ctx.update.update_id }, 'telegram: handling an update failed')
      return
    }
    if (ctx.callbackQuery !== undefined) await ctx.answerCallbackQuery({ text: toastText(err.error) }).catch(() => {})
    await reportFailure(bot.api, where, err.error, logger, { updateId: ctx.update.update_id })
  }
  bot.errorBoundary(onError, accessGate(deps), ...features.map((feature) => feature(deps)))
  bot.catch(onError)

  return {
    bot,
    deps,
    sinkFor,
    notes,
    track,
    async flush (ms) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled([...sending]), new Promise((resolve) => { timer = setTimeout(resolve, ms) })])
      clearTimeout(timer)
      closed.abort()
      pacer.close()
    },
    async handleUpdate (update, claim) {
      try {
        // grammY hands this very object to the context as ctx.update: the access gate finds the claim by it.
        if (claim !== undefined && typeof update === 'object' && update !== null) claims.set(update, claim)
        await bot.handleUpdate(update as Parameters<typeof bot.handleUpdate>[0])
      } catch (err) {
        logger.error({ err }, 'telegram: an update could not be handled')
      }
    }
  }
}

/**
 * sendMessageDraft only works for some bots; after Telegram refuses it once, streams stop trying
 * (the editor falls back to editing a message by itself).
 */
function draftAwareApi (api: StreamBotApi): { api: StreamBotApi, draftsAvailable: () => boolean } {
  let available = api.sendMessageDraft !== undefined
  const sendDraft = api.sendMessageDraft
  return {
    draftsAvailable: () => available,
    api: {
      ...api,
      sendMessageDraft: async (params) => {
        try {
          return await sendDraft?.(params)
        } catch (err) {
          if ((err as { error_code?: unknown }).error_code === 400 && !/can't parse entities/i.test(String((err as Error).message))) available = false
          throw err
        }
      }
    }
  }
}

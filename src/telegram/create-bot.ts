import { AsyncLocalStorage } from 'node:async_hooks'
import { join } from 'node:path'
import { Bot, type BotError } from 'grammy'
import type { ChatSink } from '../core/sink.ts'
import { localParts } from '../automation/tz.ts'
import type { BotDeps, BotOptions } from './bot-deps.ts'
import type { BotContext, ChatTarget } from './context.ts'
import { accessGate } from './features/access.ts'
import { features } from './features/index.ts'
import { commandMenu } from './command-menu.ts'
import { createTelegramSink } from './chat-sink.ts'
import { sendMarkdown } from './send.ts'
import { downloadMedia } from './media-in.ts'
import { streamApiFromGrammy } from './stream/grammy-api.ts'
import type { StreamBotApi } from './stream/types.ts'

export interface CreateBotOptions extends BotOptions {
  token: string
  /** Base URL of the Bot API (`telegram.api_root`). */
  apiRoot: string
}

export interface TelegramBot {
  bot: Bot<BotContext>
  deps: BotDeps
  /** A sink that shows one message's events in a chat (the orchestrator's default sink uses it too). */
  sinkFor: (where: ChatTarget, replyTo?: number) => ChatSink
  /** Runs one update through the features; never throws (errors are logged). */
  /**
   * Runs one update. `finish` (from the inbox) marks it done; a message's run awaits it before its CLI
   * starts, so a crash right after that start does not replay the update and run the message twice.
   */
  handleUpdate: (update: unknown, finish?: () => Promise<void>) => Promise<void>
}

/** The inbox's `finish` of the update being handled, for the run it starts (however deep in grammY). */
const updateScope = new AsyncLocalStorage<{ finish: () => Promise<void> }>()

/**
 * The grammY bot: the access gate, then every feature of features/index.ts, inside one error
 * boundary so nothing a user sends can take the process down.
 */
export function createBot (opts: CreateBotOptions): TelegramBot {
  const { parts, config, paths, logger } = opts
  const bot = new Bot<BotContext>(opts.token, { client: { apiRoot: opts.apiRoot } })
  const streamApi = draftAwareApi(streamApiFromGrammy(bot.api))

  const sinkFor = (where: ChatTarget, replyTo?: number): ChatSink => createTelegramSink({
    api: bot.api,
    streamApi: streamApi.api,
    where,
    ...(replyTo !== undefined ? { replyTo } : {}),
    config,
    fileAccess: () => ({ mode: config().file_access, home: paths.home, workspace: paths.workspace }),
    useDrafts: streamApi.draftsAvailable,
    logger: logger.child({ component: 'telegram', chatId: where.chatId })
  })

  const deps: BotDeps = {
    parts,
    config,
    paths,
    logger,
    version: opts.version,
    requestRestart: opts.requestRestart,
    api: bot.api,
    async runAsUser (where, text, o = {}) {
      // Resolves once the message's run has started (or it was answered, cancelled or discarded):
      // until then its update stays unfinished in the inbox, so a message still waiting in the
      // chat's queue when the service dies is replayed at the next start instead of lost.
      let taken: () => void = () => {}
      const begun = new Promise<void>((resolve) => { taken = resolve })
      const sink = sinkFor(where, o.replyTo)
      const finish = o.finish ?? updateScope.getStore()?.finish
      parts.orchestrator.handleMessage({
        chatId: String(where.chatId),
        text,
        origin: 'telegram',
        sink: { emit (event) { if (event.type === 'run_started') taken(); sink.emit(event) } },
        ...(o.images !== undefined ? { images: o.images } : {}),
        // The update is marked done (in the file) before the CLI starts, not after.
        ...(finish !== undefined ? { beforeRun: finish } : {})
      }).catch((err: unknown) => { logger.error({ err, chatId: where.chatId }, 'telegram: message failed') }).finally(taken)
      await begun
    },
    updateFinish: () => updateScope.getStore()?.finish,
    sendMarkdown: async (where, markdown, o) => await sendMarkdown(bot.api, where, markdown, o),
    isAllowed: (userId) => userId !== undefined && config().allowed_user_ids.includes(userId),
    commandList: () => commandMenu(parts.orchestrator.commands),
    downloadMedia: async (media) => {
      const now = parts.clock.now()
      const day = localParts(now, parts.timezone()).dayKey
      return await downloadMedia(bot.api, { token: opts.token, apiRoot: opts.apiRoot, media, dir: join(paths.telegramFiles, day), now: new Date(now) })
    }
  }

  const onError = (err: BotError<BotContext>): void => {
    logger.error({ err: err.error, updateId: err.ctx.update.update_id }, 'telegram: handling an update failed')
  }
  bot.errorBoundary(onError, accessGate(deps), ...features.map((feature) => feature(deps)))
  bot.catch(onError)

  return {
    bot,
    deps,
    sinkFor,
    async handleUpdate (update, finish) {
      try {
        const handle = async (): Promise<void> => { await bot.handleUpdate(update as Parameters<typeof bot.handleUpdate>[0]) }
        await (finish !== undefined ? updateScope.run({ finish }, handle) : handle())
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

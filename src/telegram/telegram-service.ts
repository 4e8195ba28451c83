import { homedir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Update } from 'grammy/types'
import { consumeRestartMarker, consumeUpgradeNotice } from '../ops/upgrade-notice.ts'
import type { BotOptions } from './bot-deps.ts'
import type { Approvals } from '../core/approvals.ts'
import type { Logger } from '../logger-types.ts'
import { approvalButtons, approvalMarkdown, settledMarkdown } from './approval-message.ts'
import { renderMarkdown } from './format/markdown.ts'
import { createBot, type TelegramBot } from './create-bot.ts'
import { consumeCutOffChats } from './cut-off.ts'
import { probeUpdate } from '../ops/update-source.ts'
import { registryFromEnv } from '../ops/upgrade.ts'
import { announceUpdate } from './panels/update-flow.ts'
import { createDeliveries, type DeliveryRetry } from './deliveries.ts'
import { telegramChatId } from '../core/chat-id.ts'

const MESSAGE_CUT_OFF = '⚠️ ductor restarted while your last message was being handled. If its answer does not follow shortly, send the message again.'

/** The updates the bot asks Telegram for. */
const ALLOWED_UPDATES = ['message', 'callback_query'] as const

export interface TelegramServiceOptions extends BotOptions {
  token: string
  apiRoot: string
  mode: 'webhook' | 'polling'
  /** `server.public_url` + `telegram.webhook_path` (webhook mode). */
  webhookUrl: string
  secret: string
  /** Longest wait of one getUpdates call, in seconds (default 30). */
  pollTimeoutSeconds?: number
  /** How automation results are retried (default: src/telegram/deliveries.ts). */
  deliveryRetry?: DeliveryRetry
}

/**
 * What Telegram's side of ductor is doing, for `/api/status`, `ductor status` and the log: `connecting`
 * until getMe and the webhook (or the first poll) went through, `up` while updates can arrive, `down`
 * with the reason while it retries (with backoff; `retry_at`), or for good (`retry_at` null).
 */
export interface TelegramState {
  state: 'connecting' | 'up' | 'down'
  mode: 'webhook' | 'polling'
  /** Why it is down (or what it is waiting for); null when up. */
  reason: string | null
  since: string
  /** When the next attempt starts; null when up, connecting, or not retried. */
  retry_at: string | null
  /** The bot's @username, once known. */
  bot: string | null
}

export interface TelegramService {
  telegram: TelegramBot
  mode: 'webhook' | 'polling'
  /** The current connection state (see TelegramState). */
  state: () => TelegramState
  /**
   * Records an update in the durable inbox (de-duplicated by update_id); its processing follows in
   * the background. Resolves once it is on disk.
   */
  accept: (update: Update) => Promise<'accepted' | 'duplicate'>
  /** After the server listens: getMe, commands, webhook or polling, the upgrade notice. Retries until stopped. */
  start: () => Promise<void>
  /** Settles once start() has done its work (or stop() was called). */
  started: Promise<void>
  stop: () => Promise<void>
}

const maxBackoffMs = 30_000

/** One line for why a Bot API call failed: Telegram's answer, or the network error's code. */
function describeFailure (err: unknown): string {
  const e = err as { error_code?: number, description?: string, message?: string, error?: { cause?: { code?: string }, code?: string, message?: string } }
  if (typeof e.error_code === 'number') return `Telegram answered ${e.error_code}${e.description === undefined ? '' : ` (${e.description})`}`
  const inner = e.error
  const code = inner?.cause?.code ?? inner?.code
  if (code !== undefined) return `cannot reach the Bot API (${code})`
  return (inner?.message ?? e.message ?? String(err)).split('\n')[0] ?? 'unknown error'
}

/**
 * The Telegram adapter's lifecycle (SPEC §4): every update — webhook or polling — goes through the
 * core's inbox (journal + dedupe by update_id) and is then run by the bot; the orchestrator's
 * default sink becomes the chat's Telegram, so admin-API chats and automation results reach it.
 */
export function createTelegramService (opts: TelegramServiceOptions): TelegramService {
  const { parts, logger } = opts
  const log = logger.child({ component: 'telegram' })
  const telegram = createBot(opts)
  const { bot } = telegram
  const stopping = new AbortController()
  let isReady = false
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => { markReady = () => { isReady = true; resolve() } })
  let markStarted: () => void = () => {}
  const started = new Promise<void>((resolve) => { markStarted = resolve })
  let polling: Promise<void> | null = null
  let current: TelegramState = { state: 'connecting', mode: opts.mode, reason: null, since: new Date().toISOString(), retry_at: null, bot: null }

  /** Records a state change and logs it once per change (not once per retry). */
  function setState (state: TelegramState['state'], reason: string | null, retryInMs: number | null = null, err?: unknown): void {
    const changed = state !== current.state || reason !== current.reason
    current = {
      ...current,
      state,
      reason,
      since: changed ? new Date().toISOString() : current.since,
      retry_at: retryInMs === null ? null : new Date(Date.now() + retryInMs).toISOString()
    }
    if (!changed) return
    if (state === 'up') log.info({ telegram: 'up', mode: opts.mode, bot: current.bot }, `telegram: up (${opts.mode}${current.bot === null ? '' : ` as @${current.bot}`})`)
    else if (state === 'down') log.error({ telegram: 'down', reason, retryInMs, err }, `telegram: down: ${reason ?? 'unknown'}${retryInMs === null ? '' : `; retrying in ${Math.round(retryInMs / 1000)} s`}`)
    else log.info({ telegram: 'connecting' }, 'telegram: connecting')
  }

  // Until getMe succeeded the update waits; at shutdown it stays unfinished and is replayed next start.
  parts.inbox.handle('telegram', async (entry, claim) => {
    if (!isReady) await ready
    await telegram.handleUpdate(entry.payload, claim)
  })
  const unsubscribeApprovals = parts.approvals === undefined ? () => {} : showApprovals(parts.approvals, telegram, opts, log)
  // Automation results go through the journal and are retried until Telegram took them (ADR 0044).
  const deliveries = createDeliveries({
    api: bot.api,
    inbox: parts.inbox,
    logger: log,
    fileAccess: () => ({ mode: opts.config().file_access, home: opts.paths.home, userHome: homedir(), workspace: opts.paths.workspace }),
    ready,
    stopping: stopping.signal,
    track: telegram.track,
    ...(opts.deliveryRetry !== undefined ? { retry: opts.deliveryRetry } : {})
  })
  parts.orchestrator.setDefaultSink((key) => {
    const chatId = telegramChatId(key)
    return chatId === null ? null : deliveries.durable(chatId, telegram.sinkFor({ chatId }))
  })

  async function accept (update: Update): Promise<'accepted' | 'duplicate'> {
    const { status } = await parts.inbox.accept('telegram', String(update.update_id), update)
    if (status === 'duplicate') log.debug({ updateId: update.update_id }, 'duplicate update ignored')
    return status
  }

  async function retrying (what: string, fn: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      try {
        await fn()
        return true
      } catch (err) {
        if (stopping.signal.aborted) return false
        const code = (err as { error_code?: unknown }).error_code
        if (code === 401 || code === 404) {
          setState('down', `${what} was refused (${String(code)}): Telegram does not know this bot token. Check telegram_token (from @BotFather), then restart ductor`)
          return false
        }
        if (code === 400) {
          setState('down', `${what} was refused by Telegram: ${(err as Error).message}; not trying again`)
          return false
        }
        const waitMs = Math.min(maxBackoffMs, 1000 * 2 ** attempt)
        setState('down', `${what} failed: ${describeFailure(err)}`, waitMs, err)
        await sleep(waitMs, undefined, { signal: stopping.signal }).catch(() => {})
      }
    }
    return false
  }

  async function poll (): Promise<void> {
    let offset = 0
    let failures = 0
    while (!stopping.signal.aborted) {
      try {
        const updates = await bot.api.getUpdates({ offset, timeout: opts.pollTimeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] }, stopping.signal as Parameters<typeof bot.api.getUpdates>[1])
        setState('up', null)
        for (const update of updates) {
          await accept(update)
          offset = update.update_id + 1
        }
        failures = 0
      } catch (err) {
        if (stopping.signal.aborted) return
        const waitMs = Math.min(maxBackoffMs, 1000 * 2 ** failures++)
        const code = (err as { error_code?: unknown }).error_code
        if (code === 401 || code === 404) {
          setState('down', `getUpdates was refused (${String(code)}): Telegram does not know this bot token. Check telegram_token (from @BotFather), then restart ductor`)
          return
        }
        setState('down', `polling failed: ${describeFailure(err)}`, waitMs, err)
        await sleep(waitMs, undefined, { signal: stopping.signal }).catch(() => {})
      }
    }
  }

  /**
   * The periodic update check (issue 17): first `firstDelayMs` after the start, then every
   * `telegram.update_check_hours` (read at each turn; 0 = off). Quiet when nothing is newer or the
   * source cannot be asked (offline, no upstream): that is logged at debug level only.
   */
  let updateTimer: NodeJS.Timeout | null = null
  function scheduleUpdateCheck (ms: number): void {
    if (stopping.signal.aborted) return
    updateTimer = setTimeout(() => { checkForUpdates().catch((err: unknown) => { log.warn({ err }, 'update check failed') }) }, ms)
    updateTimer.unref()
  }
  async function checkForUpdates (): Promise<void> {
    const hours = opts.config().telegram.update_check_hours
    if (hours > 0) {
      const { root, runner } = telegram.deps.updates
      const probe = await probeUpdate({ root, current: opts.version, runner, registry: registryFromEnv(process.env) })
      if (stopping.signal.aborted) return
      if (probe.status === 'unknown') log.debug({ reason: probe.reason }, 'update check: cannot tell')
      const did = await announceUpdate(telegram.deps, probe)
      if (did === 'announced' && probe.status === 'newer') log.info({ latest: probe.update.latest, kind: probe.update.kind }, 'update available: announced in Telegram')
    }
    scheduleUpdateCheck(Math.max(hours, 1) * 3_600_000)
  }

  /** After `/restart`, the chat that asked is told the service is back, as in the Python version. */
  async function tellRestart (): Promise<void> {
    const chatId = await consumeRestartMarker(opts.paths.state)
    if (chatId === null) return
    await telegram.deps.sendMarkdown({ chatId }, `✅ Restart completed. ductor ${opts.version} is running.`).catch((err: unknown) => { log.warn({ err, chatId }, 'could not send the restart confirmation') })
  }

  async function tellUpgrade (): Promise<void> {
    const notice = await consumeUpgradeNotice(opts.paths.state, opts.version)
    if (notice === null) return
    const chats = notice.chat_id !== null ? [notice.chat_id] : opts.config().allowed_user_ids
    for (const chatId of chats) {
      await telegram.deps.sendMarkdown({ chatId }, `${notice.upgraded ? '✅' : '⚠️'} ${notice.text}`).catch((err: unknown) => { log.warn({ err, chatId }, 'could not send the upgrade notice') })
    }
  }

  /**
   * A chat whose run the last process died under (kill -9, power cut) or stopped at its shutdown
   * (`/restart`, SIGTERM; src/telegram/cut-off.ts) is told so once, by this start (ADR 19). A message
   * whose CLI had started is not run again (the agent may already have acted on it; ADR 9); one that
   * still waited for a run slot is replayed and answered. The notice is worded for both: the user decides.
   */
  async function tellInterrupted (): Promise<void> {
    const allowed = new Set(opts.config().allowed_user_ids)
    const notices = new Map<number, Set<string>>()
    const tell = (chatId: number | null, text: string): void => {
      // A private chat's id is its user's: told only while that user is still allowed. A group or
      // channel (a negative id) ran the message of an allowed member, so it is told too.
      if (chatId === null || (chatId > 0 && !allowed.has(chatId))) return
      notices.set(chatId, (notices.get(chatId) ?? new Set()).add(text))
    }
    for (const run of parts.runs.interruptedAtOpen()) {
      if (run.chat_id === null) continue
      const chatId = telegramChatId(String(run.chat_id))
      if (run.kind === 'chat') tell(chatId, MESSAGE_CUT_OFF)
      // A `wake` webhook's run answers in the chat: the event is not run again either (ADR 9), and its draft is gone.
      else if (run.kind === 'webhook') tell(chatId, `⚠️ ductor restarted while it was answering the webhook "${run.ref ?? '?'}"; that event is not run again (the agent may have acted on it already). \`ductor runs --kind webhook\` lists it.`)
    }
    for (const chatId of await consumeCutOffChats(opts.paths.state)) tell(chatId, MESSAGE_CUT_OFF)
    for (const [chatId, texts] of notices) {
      for (const text of texts) {
        await telegram.deps.sendMarkdown({ chatId }, text)
          .catch((err: unknown) => { log.warn({ err, chatId }, 'could not send the interrupted-run notice') })
      }
    }
  }

  /**
   * The "Queued" notes an earlier life showed and never resolved (a `kill -9`, a power cut, a stop
   * while messages waited): their Cancel button does nothing any more, and their message is replayed
   * by this start (or was dropped). Each is deleted, as the note of a message that starts is; one
   * Telegram will not delete (older than 48 hours) loses its button and says why (ADR 0050 §3). One
   * that cannot be reached now is tried again by the next start.
   */
  async function cleanUpQueuedNotes (): Promise<void> {
    for (const note of await telegram.notes.earlier()) {
      if (stopping.signal.aborted) return
      try {
        await bot.api.deleteMessage(note.chatId, note.messageId)
      } catch (err) {
        if (typeof (err as { error_code?: unknown }).error_code !== 'number') {
          log.warn({ err, ...note }, 'could not remove a queued note left by the last run; trying again at the next start')
          continue
        }
        await bot.api.editMessageText(note.chatId, note.messageId, '↻ ductor restarted while this message waited in the queue.', { reply_markup: { inline_keyboard: [] } })
          .catch((err: unknown) => { log.info({ err, ...note }, 'a queued note left by the last run is gone already') })
      }
      telegram.notes.resolved(note)
    }
  }

  return {
    telegram,
    mode: opts.mode,
    state: () => ({ ...current }),
    accept,
    started,
    async start () {
      try {
        // Not bot.init(): it retries network errors and 5xx by itself, for ever and silently.
        if (!await retrying('getMe', async () => { bot.botInfo = await bot.api.getMe() })) return
        current = { ...current, bot: bot.botInfo.username }
        if (current.state === 'down') setState('connecting', null)
        log.info({ username: bot.botInfo.username, mode: opts.mode }, 'telegram bot ready')
        if (opts.config().allowed_user_ids.length === 0) log.warn('allowed_user_ids is empty: the bot answers nobody. Add your numeric Telegram user id (DUCTOR_ALLOWED_USER_IDS)')
        markReady()
        const commands = telegram.deps.commandList()
        await retrying('setMyCommands', async () => await bot.api.setMyCommands(commands))
        if (opts.mode === 'webhook') {
          const set = await retrying('setWebhook', async () => await bot.api.setWebhook(opts.webhookUrl, { secret_token: opts.secret, allowed_updates: [...ALLOWED_UPDATES] }))
          if (set) {
            log.info({ url: opts.webhookUrl }, 'telegram webhook set')
            setState('up', null)
          }
        } else {
          await retrying('deleteWebhook', async () => await bot.api.deleteWebhook())
          polling = poll()
        }
        await tellUpgrade().catch((err: unknown) => { log.warn({ err }, 'could not read the upgrade notice') })
        await tellRestart()
        await tellInterrupted()
        await cleanUpQueuedNotes().catch((err: unknown) => { log.warn({ err }, 'could not clean up the queued notes left by the last run') })
        scheduleUpdateCheck(telegram.deps.updates.firstDelayMs)
      } finally {
        markStarted()
      }
    },
    async stop () {
      // Runs were stopped just before (the core's preClose): their chats are told so before the exit.
      // Automation results under way go out too; one that fails now stays for the next start.
      deliveries.drain()
      await telegram.flush(5000)
      stopping.abort()
      unsubscribeApprovals()
      if (updateTimer !== null) clearTimeout(updateTimer)
      markStarted()
      parts.orchestrator.setDefaultSink(null)
      await polling
      await telegram.notes.close()
    }
  }
}

/**
 * Each tool request of a run in `permission_mode: "ask"` becomes a message with four buttons in
 * every Telegram chat it asks (docs/approvals.md); once settled, each of those messages is edited to
 * say what happened and loses its buttons.
 */
function showApprovals (approvals: Approvals, telegram: ReturnType<typeof createBot>, opts: TelegramServiceOptions, log: Logger): () => void {
  const shown = new Map<string, Array<{ chatId: number, messageId: number }>>()
  const mask = opts.parts.mask
  const timeout = (): number => opts.config().approvals.timeout_seconds
  const settledEarly = new Map<string, () => Promise<void>>()
  return approvals.subscribe((event) => {
    const { request } = event
    if (event.type === 'requested') {
      const chats = request.chatIds.map(telegramChatId).filter((id): id is number => id !== null)
      const sending = Promise.all(chats.map(async (chatId) => {
        try {
          const ids = await telegram.deps.sendMarkdown({ chatId }, approvalMarkdown(request, mask, timeout()), { buttons: approvalButtons(request.id) })
          const messageId = ids.at(-1)
          if (messageId !== undefined) shown.set(request.id, [...(shown.get(request.id) ?? []), { chatId, messageId }])
        } catch (err) {
          log.warn({ err, chatId, approval: request.id }, 'could not show a tool request')
        }
      })).then(async () => { await settledEarly.get(request.id)?.() })
      sending.catch(() => {})
      return
    }
    const edit = async (): Promise<void> => {
      settledEarly.delete(request.id)
      const messages = shown.get(request.id) ?? []
      shown.delete(request.id)
      const html = renderMarkdown(settledMarkdown(request, event.outcome, event.by, mask, timeout()))
      for (const { chatId, messageId } of messages) {
        await telegram.bot.api.editMessageText(chatId, messageId, html, { parse_mode: 'HTML', reply_markup: { inline_keyboard: [] } })
          .catch((err: unknown) => { log.warn({ err, chatId, approval: request.id }, 'could not update a tool request') })
      }
    }
    if (shown.has(request.id)) edit().catch(() => {})
    else settledEarly.set(request.id, edit)
  })
}

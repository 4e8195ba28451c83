import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { telegramMode } from '../src/config.ts'
import type { BotOptions } from '../src/telegram/bot-deps.ts'
import type { TelegramService } from '../src/telegram/telegram-service.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Telegram adapter; null when `telegram_token` is empty. */
    telegram: TelegramService | null
  }
}

export interface TelegramPluginOptions extends Pick<BotOptions, 'version' | 'requestRestart' | 'restartable' | 'updates'> {
  /** Seconds one getUpdates call may wait (tests use less). */
  pollTimeoutSeconds?: number
}

/**
 * The Telegram adapter (SPEC §4): grammY on the Bot API at `telegram.api_root`. Once the server
 * listens it sets the commands and either the webhook (`server.public_url` + `telegram.webhook_path`)
 * or starts long polling; it stops intake before the core closes.
 */
async function telegramPlugin (app: FastifyInstance, opts: TelegramPluginOptions): Promise<void> {
  const { config, paths, logger, clock, timezone } = app.settings
  const initial = config()
  if (initial.telegram_token === '') {
    app.decorate('telegram', null)
    logger.info('telegram_token is empty: the Telegram adapter is off')
    return
  }
  const mode = telegramMode(initial)
  if (mode === 'webhook' && !initial.server.public_url.startsWith('https://')) {
    logger.error('telegram.mode is webhook but server.public_url is not an https:// URL: Telegram will refuse the webhook (set server.public_url, or telegram.mode "polling")')
  }
  // Imported only with a token: grammY and the adapter are ~100 ms and ~15 MB a service without Telegram does not need (P4).
  const { createTelegramService } = await import('../src/telegram/telegram-service.ts')
  const { orchestrator, inbox, automation, stores, runner } = app
  const service = createTelegramService({
    parts: {
      orchestrator,
      inbox,
      sessions: stores.sessions,
      runs: stores.runs,
      cron: automation.cron,
      claims: runner.claims,
      clock,
      timezone,
      providerStatus: runner.providerStatus,
      cliLogins: runner.cliLogins,
      activeRuns: () => runner.registry.list().length,
      mask: (text) => app.settings.secrets.mask(text),
      approvals: app.approvals
    },
    version: opts.version,
    requestRestart: opts.requestRestart,
    restartable: opts.restartable,
    ...(opts.updates !== undefined ? { updates: opts.updates } : {}),
    config,
    paths,
    logger,
    token: initial.telegram_token,
    apiRoot: initial.telegram.api_root.replace(/\/+$/, ''),
    mode,
    webhookUrl: `${initial.server.public_url.replace(/\/+$/, '')}${initial.telegram.webhook_path}`,
    secret: initial.telegram.webhook_secret,
    ...(opts.pollTimeoutSeconds !== undefined ? { pollTimeoutSeconds: opts.pollTimeoutSeconds } : {})
  })
  app.decorate('telegram', service)
  app.addHook('onListen', async () => {
    service.start().catch((err: unknown) => { logger.error({ err }, 'telegram: start failed') })
  })
  app.addHook('preClose', async () => { await service.stop() })
}

export default fp(telegramPlugin, { name: 'telegram', dependencies: ['settings', 'stores', 'approvals', 'runner', 'orchestrator', 'automation', 'inbox'] })

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { errorResponses } from './schemas.ts'
import { RunSchema } from '../../src/store/run-history.ts'
import type { TelegramService, TelegramState } from '../../src/telegram/telegram-service.ts'

const StatusSchema = Type.Object({
  version: Type.String(),
  uptime_seconds: Type.Number(),
  started_at: Type.String(),
  home: Type.String(),
  provider: Type.String(),
  model: Type.String(),
  providers: Type.Object({ claude: Type.String(), codex: Type.String() }),
  sandbox: Type.Object({
    enabled: Type.Boolean(),
    where: Type.Union([Type.Literal('docker'), Type.Literal('host'), Type.Literal('unknown')]),
    reason: Type.Union([Type.String(), Type.Null()]),
    container: Type.String(),
    image: Type.String()
  }, { description: 'The Docker sandbox (docs/sandbox.md): where CLI runs go, and why not into the container when it is enabled.' }),
  telegram: Type.String({ description: '"off (no bot token)", "connecting", "up" or "down: <reason>"' }),
  telegram_state: Type.Union([Type.Null(), Type.Object({
    state: Type.Union([Type.Literal('connecting'), Type.Literal('up'), Type.Literal('down')]),
    mode: Type.Union([Type.Literal('webhook'), Type.Literal('polling')]),
    reason: Type.Union([Type.String(), Type.Null()]),
    since: Type.String(),
    retry_at: Type.Union([Type.String(), Type.Null()]),
    bot: Type.Union([Type.String(), Type.Null()])
  })], { description: 'Telegram\'s connection in detail; null when Telegram is off' }),
  active_runs: Type.Array(RunSchema),
  queues: Type.Array(Type.Object({ chat_id: Type.String(), running: Type.Boolean(), queued: Type.Integer() })),
  concurrency: Type.Object({ max: Type.Integer(), active: Type.Integer(), waiting: Type.Integer() }),
  next_cron_runs: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), at: Type.String() }))
})

/** The truth about Telegram: off, connecting, up, or down with the reason (and when it tries again). */
function telegramStatus (service: TelegramService | null): { telegram: string, telegram_state: TelegramState | null } {
  if (service === null) return { telegram: 'off (no bot token)', telegram_state: null }
  const state = service.state()
  return { telegram: state.state === 'down' ? `down: ${state.reason ?? 'unknown'}` : state.state, telegram_state: state }
}

/** GET /api/status (SPEC §10): version, uptime, providers, active runs, queues, next cron runs. */
const statusRoutes: FastifyPluginAsyncTypebox<{ version: string }> = async (app, opts) => {
  const startedAt = Date.now()
  app.get('/status', {
    schema: { summary: 'Service status', tags: ['status'], response: { 200: StatusSchema, ...errorResponses } }
  }, async () => {
    const { settings, runner, automation } = app
    const config = settings.config()
    return {
      version: opts.version,
      uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      started_at: new Date(startedAt).toISOString(),
      home: settings.paths.home,
      provider: config.provider,
      model: config.model,
      providers: await runner.providerStatus(),
      sandbox: runner.sandbox.state(),
      ...telegramStatus(app.telegram ?? null),
      active_runs: app.stores.runs.active(),
      queues: app.orchestrator.lanes.snapshot().map((q) => ({ chat_id: q.chatId, running: q.running, queued: q.queued })),
      concurrency: { max: config.limits.max_concurrent_runs, active: runner.limiter.active, waiting: runner.limiter.waiting },
      next_cron_runs: automation.cron.upcoming(5).map((run) => ({
        id: run.id,
        title: automation.cron.store.get(run.id)?.title ?? run.id,
        at: new Date(run.at).toISOString()
      }))
    }
  })
}

export default statusRoutes

import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { DuctorError, ErrorCodes } from './errors.ts'
import { answerClientError, describeError, describeRouterError, noRoute, POISONED_BODY, SHUTTING_DOWN } from './http-errors.ts'
import { depthMessage, jsonTooDeep } from './json-depth.ts'
import type { Logger } from './logger-types.ts'
import { lazyRequestLogger } from './request-logger.ts'
import { trustProxySetting, type Config } from './config.ts'
import type { HomePaths } from './home/paths.ts'
import type { Clock } from './clock.ts'
import type { SecretMask } from './secret-mask.ts'
import type { CliExecutor } from './providers/cli-executor.ts'
import schemaCompilersPlugin from '../plugins/schema-compilers.ts'
import settingsPlugin from '../plugins/settings.ts'
import storesPlugin from '../plugins/stores.ts'
import approvalsPlugin from '../plugins/approvals.ts'
import runnerPlugin from '../plugins/runner.ts'
import orchestratorPlugin from '../plugins/orchestrator.ts'
import automationPlugin from '../plugins/automation.ts'
import inboxPlugin from '../plugins/inbox.ts'
import webhooksPlugin from '../plugins/webhooks.ts'
import listenersPlugin from '../plugins/listeners.ts'
import healthRoutes from '../routes/health/index.ts'
import adminRoutes from '../routes/admin/index.ts'
import hookRoutes from '../routes/hooks/index.ts'
import telegramPlugin from '../plugins/telegram.ts'
import type { UpdateSettings } from './telegram/bot-deps.ts'
import telegramRoutes from '../routes/telegram/index.ts'

export interface AppDeps {
  /** The effective config (file + environment). */
  config: Config
  /** The config as stored in `config/config.json`, and where (PATCH /api/config writes it). */
  fileConfig?: Config
  configPath?: string
  paths: HomePaths
  logger: Logger
  clock: Clock
  /** The environment the CLIs are started with (default: process.env). */
  env?: NodeJS.ProcessEnv
  /** The live secret set (the logger's scrubber in the service), see ADR 0007. */
  secrets?: SecretMask
  version: string
  /** Replaces the real CLI executor (tests). */
  executor?: CliExecutor
  /** Tick interval of the automation loop (default 1000 ms). */
  automationTickMs?: number
  /** How often CLAUDE.md/AGENTS.md are synced across the workspace while running (default 10 s). */
  ruleSyncMs?: number
  /** How often the skill folders are synced (default 30 s). */
  skillSyncMs?: number
  /** Graceful stop with the restart exit code (42), for `/restart`. */
  requestRestart: () => void
  /** Whether anything starts the service again after exit 42 (src/ops/restarter.ts); if not, `/restart` is refused. */
  restartable: () => boolean
  /** Seconds one Telegram getUpdates call may wait (tests use less). */
  telegramPollSeconds?: number
  /** Where the update check looks and when it first runs (tests: a checkout of their own, no delay). */
  updates?: Partial<UpdateSettings>
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** The parts of the service: the plugins (their `name`) and the route groups, with what each needs. */
const PART_NEEDS = {
  settings: [],
  stores: ['settings'],
  approvals: ['settings'],
  runner: ['settings', 'stores'],
  orchestrator: ['settings', 'stores', 'runner', 'approvals'],
  automation: ['settings', 'stores', 'runner', 'orchestrator'],
  inbox: ['settings', 'runner'],
  webhooks: ['settings', 'stores', 'orchestrator', 'automation', 'inbox'],
  health: [],
  // The routes reach the parts through the app's decorations, so they need every one they may touch.
  hooks: ['webhooks'],
  telegram: ['settings', 'stores', 'approvals', 'runner', 'orchestrator', 'automation', 'inbox'],
  admin: ['settings', 'stores', 'approvals', 'runner', 'orchestrator', 'automation', 'inbox', 'webhooks']
} as const satisfies Record<string, readonly string[]>
export type Part = keyof typeof PART_NEEDS

/** `parts` and everything they need, transitively. */
function withNeeds (parts: readonly Part[]): Set<Part> {
  const all = new Set<Part>()
  const add = (part: Part): void => {
    if (all.has(part)) return
    all.add(part)
    for (const need of PART_NEEDS[part]) add(need)
  }
  for (const part of parts) add(part)
  return all
}

/**
 * The Fastify application: the parts (plugins/) then routes, one error handler, one 404.
 * Every error leaves as `{ error, message }` (SPEC §3); a 5xx never shows its internals.
 * `parts` (tests): only those parts and what they need, in the same order; the service has all.
 */
export async function buildApp (deps: AppDeps, parts?: readonly Part[]): Promise<App> {
  const only = parts === undefined ? null : withNeeds(parts)
  const has = (part: Part): boolean => only === null || only.has(part)
  // The listener rule (ADR 14), set once the listeners plugin is registered.
  let servedHere: (raw: IncomingMessage, path: string) => boolean = () => true
  const routerError = (err: FastifyError, raw: IncomingMessage, reply: FastifyReply): void => {
    const path = raw.url?.split('?')[0] ?? ''
    if (!servedHere(raw, path)) {
      reply.code(404).send(noRoute(raw.method, path))
      return
    }
    const { status, code, message } = describeRouterError(err.code, raw.url ?? '')
    reply.log.debug({ code, message }, 'request refused')
    reply.code(status).send({ error: code, message })
  }
  const app: App = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is made on its first line, not per request (src/request-logger.ts, ADR 0033).
    childLoggerFactory: lazyRequestLogger,
    trustProxy: fastifyTrustProxy(deps.config),
    bodyLimit: 1024 * 1024,
    // While stopping, new requests get our 503 (the onRequest hook below), not Fastify's own object.
    return503OnClosing: false,
    forceCloseConnections: true,
    clientErrorHandler: answerClientError,
    // The router's refusals (a path segment over 100 characters, a broken %-escape) in our shape too:
    // Fastify's default answer is its own object ({"error":"Bad Request","code":"FST_ERR_…",…}).
    // No route matched, so the listener rule (ADR 14) is applied to the raw path here.
    frameworkErrors: (err, request, reply) => { routerError(err, request.raw, reply as FastifyReply) }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // The first hook of every request and the first step of a close: from then on every new request is
  // a 503 `unavailable` (what Fastify's return503OnClosing did, in our shape), on both listeners.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // A callback hook, not an async one: no promise per request on the hot path (ADR 0033).
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) {
      done()
      return
    }
    reply.header('connection', 'close').code(SHUTTING_DOWN.status).send({ error: SHUTTING_DOWN.code, message: SHUTTING_DOWN.message })
  })

  app.setErrorHandler((err: FastifyError | DuctorError, request, reply) => {
    const { status, code, message } = describeError(err, { route: request.routeOptions.url, bodyLimit: request.routeOptions.bodyLimit })
    if (code === ErrorCodes.storage && status === 503) reply.header('retry-after', '60')
    if (status >= 500) request.log.error({ err }, 'request failed')
    else request.log.debug({ code, message }, 'request refused')
    return reply.code(status).send({ error: code, message })
  })
  // Every JSON body (the admin API, the Telegram webhook; the hooks route parses its own bytes) is
  // refused with a 400 when it nests too deeply, before it is parsed or journaled.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonTooDeep(body as string)) {
      done(new DuctorError(ErrorCodes.badRequest, depthMessage('the JSON body')), undefined)
      return
    }
    parseJson(request, body as string, (err, value) => {
      // The parser refuses a "__proto__" (or constructor.prototype) key as "not valid JSON": say which it is.
      if (err !== null && isJson(body as string)) done(new DuctorError(ErrorCodes.badRequest, POISONED_BODY), undefined)
      else done(err, value)
    })
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(noRoute(request.method, request.url))
  })

  // Before every route: /api answers only on the admin listener, the rest only on the public one (ADR 14).
  await app.register(listenersPlugin)
  servedHere = app.listenerServes
  // Route schemas compile on their first request, with Fastify's compilers and our Ajv options:
  // additionalProperties: false means it (an unknown field is a 400 naming it, not silently dropped).
  await app.register(schemaCompilersPlugin)
  // The parts, in dependency order; they close in reverse (ADR 0018).
  if (has('settings')) await app.register(settingsPlugin, deps)
  if (has('stores')) await app.register(storesPlugin)
  if (has('approvals')) await app.register(approvalsPlugin)
  if (has('runner')) await app.register(runnerPlugin, deps.executor !== undefined ? { executor: deps.executor } : {})
  if (has('orchestrator')) await app.register(orchestratorPlugin, { version: deps.version })
  if (has('automation')) {
    await app.register(automationPlugin, {
      ...(deps.automationTickMs !== undefined ? { tickMs: deps.automationTickMs } : {}),
      ...(deps.ruleSyncMs !== undefined ? { ruleSyncMs: deps.ruleSyncMs } : {}),
      ...(deps.skillSyncMs !== undefined ? { skillSyncMs: deps.skillSyncMs } : {})
    })
    // The first step of a shutdown, while requests can still be answered (a chat request cut short gets
    // its 503), before Telegram's intake stops. It spans the runner, the orchestrator and the automation
    // and its order matters, so it is written here once (ADR 0018): the claim gate shuts (from here no
    // CLI starts: work waiting in a queue or for a run slot stays unfinished in the inbox and is
    // replayed), the lanes pause, the automation loop stops and aborts its tasks, every CLI is stopped
    // as a shutdown (the chat is told why), then the runs get 3 s to record their end.
    app.addHook('preClose', async function stopRuns () {
      const { runner, orchestrator, automation } = app
      await runner.claims.shut()
      orchestrator.lanes.pause()
      await automation.stop()
      automation.abort()
      const killing = runner.registry.killAll()
      for (const { chatId } of orchestrator.lanes.snapshot()) orchestrator.lanes.abort(chatId, 'shutdown')
      await killing
      await orchestrator.drain(3000)
      await automation.drain(3000)
    })
  }
  if (has('inbox')) await app.register(inboxPlugin)
  if (has('webhooks')) await app.register(webhooksPlugin)
  if (has('health')) await app.register(healthRoutes)
  // Always registered: `webhooks.enabled` is checked per delivery (403 while off), so
  // `ductor webhook enable` (PATCH /api/config) switches webhooks on without a restart.
  if (has('hooks')) await app.register(hookRoutes)
  if (has('telegram')) {
    await app.register(telegramPlugin, {
      version: deps.version,
      requestRestart: deps.requestRestart,
      restartable: deps.restartable,
      ...(deps.telegramPollSeconds !== undefined ? { pollTimeoutSeconds: deps.telegramPollSeconds } : {}),
      ...(deps.updates !== undefined ? { updates: deps.updates } : {})
    })
  }
  const telegram = app.telegram
  if (telegram?.mode === 'webhook') {
    // The secret registered with setWebhook at start: a changed one applies after the restart, as PATCH /api/config says.
    await app.register(telegramRoutes, { path: deps.config.telegram.webhook_path, secret: () => deps.config.telegram.webhook_secret, accept: telegram.accept })
  }
  if (deps.config.admin.enabled && has('admin')) await app.register(adminRoutes, { prefix: '/api', version: deps.version })
  return app
}

/** `server.trust_proxy` for Fastify (validated at load): addresses as a list, a hop count as proxy-addr's own rule. */
function fastifyTrustProxy (config: Config): false | string[] | ((address: string, hop: number) => boolean) {
  const setting = trustProxySetting(config.server.trust_proxy)
  if (!setting.ok || setting.value === false) return false
  const hops = setting.value
  return typeof hops === 'number' ? (_address, hop) => hop < hops : hops
}

function isJson (text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

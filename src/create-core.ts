import { join } from 'node:path'
import { completeConfig, configSecrets, ENV_OVERRIDES, type Config } from './config.ts'
import { readUserJson } from './json-location.ts'
import { DuctorError, ErrorCodes, UserFileError } from './errors.ts'
import { createSecretMask, type SecretMask } from './secret-mask.ts'
import { maskingExecutor } from './core/masking-executor.ts'
import type { Clock } from './clock.ts'
import type { Logger } from './logger-types.ts'
import type { HomePaths } from './home/paths.ts'
import { createProcessRegistry, type ProcessRegistry } from './providers/process-registry.ts'
import { createRunner } from './providers/runner.ts'
import { createCliExecutor } from './providers/executor.ts'
import { createSessionStore, type SessionStore } from './core/session-store.ts'
import { createRunHistory, newRunId, type RunHistory } from './store/run-history.ts'
import { defaultTimezone } from './automation/cron-plan.ts'
import { installedClis } from './home/variant.ts'
import type { CliExecutor } from './providers/cli-executor.ts'
import { createLimiter, type Limiter } from './core/limiter.ts'
import { createCommandRegistry, type CommandRegistry } from './core/commands.ts'
import { registerCoreCommands } from './core/core-commands.ts'
import { registerCommandTable } from './core/command-table.ts'
import { readVersion } from './version.ts'
import { createOrchestrator, type Orchestrator } from './core/orchestrator.ts'
import { planConfigPatch, type ConfigPatchPlan } from './core/config-update.ts'
import { writeJsonAtomic } from './atomic-json.ts'
import { createAutomation } from './automation/create-automation.ts'
import type { CronControl } from './automation/cron-control.ts'
import type { DependencyQueue } from './automation/dependency-queue.ts'
import type { AutomationScheduler } from './automation/scheduler.ts'
import type { RunTask } from './automation/task-run-types.ts'
import { createJournal } from './store/journal.ts'
import { createDedupeStore } from './store/dedupe.ts'
import { createInbox, type Inbox } from './store/inbox.ts'
import { createWebhooks, type Webhooks } from './webhooks/create-webhooks.ts'
import { createClaimGate, type ClaimGate } from './claims.ts'
import { syncRuleFiles } from './home/seed.ts'
import { findCliLogin } from './ops/doctor-cli-checks.ts'
import { stat } from 'node:fs/promises'
import { homedir } from 'node:os'

export interface CoreOptions {
  /** The effective config (file + environment). */
  config: Config
  /** The config as stored in `config/config.json`, and where (PATCH /api/config writes it). */
  fileConfig?: Config
  configPath?: string
  paths: HomePaths
  logger: Logger
  clock: Clock
  env?: NodeJS.ProcessEnv
  /** Replaces the real CLI executor (tests). */
  executor?: CliExecutor
  /** The service's version, for /info and /upgrade outside Telegram (default: package.json's). */
  version?: string
  /** Tick interval of the automation loop (default 1000 ms). */
  automationTickMs?: number
  /** How often CLAUDE.md/AGENTS.md are synced across the workspace while running (default 10 s). */
  ruleSyncMs?: number
  /**
   * The live secret set (the logger's scrubber in the service; a fresh one otherwise). The core adds
   * the config's secrets (again on every applied config) and every hook token and signing secret,
   * and masks them in the agent's output (ADR 0007).
   */
  secrets?: SecretMask
}

/** Everything the ingresses share (SPEC §5): stores, the process registry, the orchestrator. */
export interface Core {
  config: () => Config
  paths: HomePaths
  logger: Logger
  clock: Clock
  sessions: SessionStore
  runs: RunHistory
  registry: ProcessRegistry
  executor: CliExecutor
  limiter: Limiter
  commands: CommandRegistry
  orchestrator: Orchestrator
  /** Whether each CLI is installed, in a few words (for /status and GET /api/status). */
  providerStatus: () => Promise<Record<'claude' | 'codex', string>>
  /** The next cron runs across all jobs, soonest first. */
  nextCronRuns: (limit: number) => Array<{ id: string, title: string, at: string }>
  /** Isolated task runs for cron jobs and `cron_task` webhooks (SPEC §8). */
  runTask: RunTask
  /** The dependency queue shared by cron and webhook tasks (depths for /api/status). */
  dependencies: DependencyQueue
  /** Cron jobs: store, next runs, run now (admin API, /cron). */
  cron: CronControl
  /** The automation loop; `tick()` is callable directly (tests with a mock clock). */
  automation: AutomationScheduler
  /** Starts the automation timer; call once the server listens. */
  startAutomation: () => void
  /** Resolves once the CLI runner can spawn without loading anything first (see Runner.ready). */
  cliReady: () => Promise<void>
  /** The claim gate: every CLI run is made for a claim; shut at shutdown (src/core/claims.ts). */
  claims: ClaimGate
  /** The durable inbox of Telegram updates and webhook deliveries (SPEC §11); `start()` once the server listens. */
  inbox: Inbox
  /** Webhooks: the hooks of webhooks.json and the dispatcher the inbox hands deliveries to (SPEC §9). */
  webhooks: Webhooks
  /** The zone for cron, quiet hours, daily reset: `user_timezone` → $TZ → host → UTC. */
  timezone: () => string
  /** Where the agent's `ductor` command reaches the admin API; set once the server listens. */
  setApiUrl: (url: string) => void
  apiUrl: () => string | null
  /** Applies a new validated config to everything that reads it live. */
  applyConfig: (next: Config) => void
  /** PATCH /api/config: merge, validate, persist atomically, apply what can be applied live. */
  updateConfig: (patch: unknown) => Promise<ConfigPatchPlan>
  /** The live secrets: masked in logs and in everything the agent says. */
  secrets: SecretMask
  /**
   * The first step of a shutdown (the app's preClose, while requests can still be answered): the claim
   * gate shuts (nothing starts any more), automation stops, every CLI is killed, queued messages are
   * let go. Idempotent; `close` calls it too.
   */
  stopRuns: () => Promise<void>
  /** Whether a shutdown has begun (the chat API answers 503 to what it cut short). */
  stopping: () => boolean
  /** Stops runs and children, flushes the stores. */
  close: () => Promise<void>
}

export async function createCore (opts: CoreOptions): Promise<Core> {
  const { paths, logger, clock } = opts
  const env = opts.env ?? process.env
  let config = opts.config
  let apiUrl: string | null = null
  let fileConfig = opts.fileConfig ?? opts.config
  let configWrites: Promise<unknown> = Promise.resolve()
  const getConfig = (): Config => config
  const timezone = (): string => defaultTimezone(config.user_timezone, env['TZ'])
  const secrets = opts.secrets ?? createSecretMask()
  for (const secret of configSecrets(config)) secrets.add(secret)

  const sessions = await createSessionStore({ path: paths.sessions, clock, logger: logger.child({ component: 'sessions' }) })
  const runs = await createRunHistory({ path: join(paths.state, 'runs.jsonl'), clock, logger: logger.child({ component: 'runs' }), mask: (text) => secrets.mask(text) })
  const registry = createProcessRegistry({ clock })
  // What the run owners (chat runs, tasks, the heartbeat) record through: a run is pending in the
  // registry from its start to its recorded end, so DELETE /api/runs/:id can tell a run waiting for
  // its process from a record nothing is working on.
  const ownedRuns: RunHistory = {
    ...runs,
    async start (input) {
      // Pending before the record can be seen (GET /api/runs/active shows it while it is written).
      const id = input.id ?? newRunId(clock.now())
      registry.markPending(id)
      try {
        return await runs.start({ ...input, id })
      } catch (err) {
        registry.settled(id)
        throw err
      }
    },
    async finish (id, end) {
      try {
        return await runs.finish(id, end)
      } finally {
        registry.settled(id)
      }
    }
  }
  const runner = createRunner({ logger: logger.child({ component: 'runner' }), registry, clock })
  const executor = maskingExecutor(opts.executor ?? createCliExecutor({
    config: getConfig,
    runner,
    home: paths.home,
    api: () => ({ url: apiUrl, token: config.admin.enabled ? config.admin.token : null }),
    baseEnv: env
  }), secrets)
  const claims = createClaimGate()
  const inbox = createInbox({
    gate: claims,
    journal: await createJournal({ path: join(paths.state, 'inbox.jsonl'), clock, logger: logger.child({ component: 'inbox' }) }),
    dedupe: await createDedupeStore({ path: join(paths.state, 'dedupe.jsonl'), clock, logger: logger.child({ component: 'dedupe' }) }),
    clock,
    logger: logger.child({ component: 'inbox' })
  })
  const limiter = createLimiter(config.limits.max_concurrent_runs)
  const commands = createCommandRegistry()
  const orchestrator = createOrchestrator({ config: getConfig, paths, sessions, runs: ownedRuns, cli: executor, limiter, clock, logger, timezone, commands, claims })
  /** Per CLI, as the Python version's /status says it: installed, logged in, and how old the login is. */
  const providerStatus = async (): Promise<Record<'claude' | 'codex', string>> => {
    const installed = installedClis(config, env)
    const userHome = (env['HOME'] ?? '') !== '' ? env['HOME'] as string : homedir()
    const say = async (provider: 'claude' | 'codex', install: string, login: string): Promise<string> => {
      if (!installed[provider]) return `not installed (${install})`
      const found = await findCliLogin(provider, { env, userHome })
      if (found === null) return `installed, not logged in (run ${login})`
      const at = found.file === null ? null : await stat(found.file).then((s) => s.mtimeMs, () => null)
      return at === null ? `installed, logged in (${found.how})` : `installed, logged in ${loginAge(clock.now() - at)}`
    }
    const [claude, codex] = await Promise.all([
      say('claude', 'npm install -g @anthropic-ai/claude-code', '`claude`'),
      say('codex', 'npm install -g @openai/codex', '`codex login`')
    ])
    return { claude, codex }
  }
  const automation = await createAutomation({
    chat: { config: getConfig, paths, sessions, runs: ownedRuns, cli: executor, limiter, clock, logger, timezone, claims },
    orchestrator,
    registry,
    tickMs: opts.automationTickMs
  })
  const webhooks = await createWebhooks({ path: paths.webhooks, config: getConfig, orchestrator, runTask: automation.runTask, runs, inbox, clock, logger, onSecret: (secret) => { secrets.add(secret) } })
  registerCoreCommands(commands, {
    config: getConfig,
    sessions,
    isBusy: orchestrator.isBusy,
    queueDepth: (chatId) => orchestrator.lanes.queueDepth(chatId),
    memoryPath: paths.memory,
    providerStatus,
    switchDefault: async (next) => await switchDefault(next),
    timezone
  })
  registerCommandTable(commands, {
    version: opts.version ?? readVersion(),
    home: paths.home,
    cronJobs: () => automation.cron.store.list().map((j) => ({ id: j.id, title: j.title, schedule: j.schedule, enabled: j.enabled }))
  })

  let stoppingRuns: Promise<void> | undefined
  function stopRuns (): Promise<void> {
    stoppingRuns ??= (async () => {
      // From here no CLI starts: a message waiting in a chat's queue or for a run slot, a delivery
      // waiting for its dependency, stays unfinished in the inbox and is answered after the restart
      // instead of being started now and killed at once (src/core/claims.ts).
      await claims.shut()
      orchestrator.lanes.pause()
      await automation.stop()
      // Runs still going are stopped as a shutdown (the chat is told why), then the queues are let go.
      const killing = registry.killAll()
      for (const { chatId } of orchestrator.lanes.snapshot()) orchestrator.lanes.abort(chatId, 'shutdown')
      await killing
      await orchestrator.drain(3000)
      await automation.drain(3000)
    })()
    return stoppingRuns
  }

  /**
   * `/model` (SPEC §4): the new default is written to config.json like PATCH /api/config and applied.
   * An environment variable (DUCTOR_PROVIDER / DUCTOR_MODEL) wins over the file at the next start; the
   * user's explicit switch still applies now, and they are told why it will not last.
   */
  async function switchDefault (next: { provider: 'claude' | 'codex', model: string, reasoning_effort?: Config['reasoning_effort'] }): Promise<string | null> {
    const plan = await updateConfig(next)
    if (plan.overriddenByEnv.length === 0) return null
    applyConfig({ ...config, ...next })
    const names = ENV_OVERRIDES.filter(([, key]) => plan.overriddenByEnv.includes(key)).map(([name]) => name)
    return `Note: ${names.join(' and ')} is set in ductor's environment and will choose the model again at the next start.`
  }

  /**
   * CLAUDE.md and AGENTS.md stay identical while the service runs (SPEC §1), as in the Python version:
   * the agent or the user edits one (a task's rules, a skill), and within `ruleSyncMs` the other
   * follows (the newer wins). Received and produced files are not walked.
   */
  let ruleSyncTimer: NodeJS.Timeout | null = null
  function startRuleSync (): void {
    if (ruleSyncTimer !== null) return
    let busy = false
    ruleSyncTimer = setInterval(() => {
      if (busy) return
      busy = true
      syncRuleFiles(paths.workspace, { skip: new Set([paths.telegramFiles, paths.outputToUser]) })
        .then((written) => { if (written.length > 0) logger.info({ files: written }, 'rule files synced') })
        .catch((err: unknown) => { logger.warn({ err }, 'rule file sync failed') })
        .finally(() => { busy = false })
    }, opts.ruleSyncMs ?? 10_000)
    ruleSyncTimer.unref()
  }

  async function updateConfig (patch: unknown): Promise<ConfigPatchPlan> {
    const run = configWrites.then(async () => {
      // The file is the user's: a hand edit since start is the base (kept, not written over), and a
      // hand edit that is not JSON refuses the change instead of being replaced (ADR 0013).
      const onDisk = opts.configPath === undefined
        ? null
        : await readUserJson(opts.configPath, 'nothing was changed; fix the file first').catch((err: unknown) => {
          if (err instanceof UserFileError) throw new DuctorError(ErrorCodes.conflict, err.message)
          throw err
        })
      const base = onDisk?.status === 'ok' && typeof onDisk.value === 'object' && onDisk.value !== null && !Array.isArray(onDisk.value)
        ? completeConfig(onDisk.value as Record<string, unknown>)
        : fileConfig
      const plan = planConfigPatch(base, patch, env)
      if (opts.configPath !== undefined) await writeJsonAtomic(opts.configPath, plan.file)
      fileConfig = plan.file
      applyConfig(plan.effective)
      logger.info({ changed: plan.changed, restartRequired: plan.restartRequired }, 'config updated')
      return plan
    })
    configWrites = run.catch(() => {})
    return await run
  }

  function applyConfig (next: Config): void {
    config = next
    for (const secret of configSecrets(next)) secrets.add(secret)
    limiter.setMax(next.limits.max_concurrent_runs)
  }

  return {
    config: getConfig,
    paths,
    logger,
    clock,
    sessions,
    runs,
    registry,
    executor,
    limiter,
    commands,
    orchestrator,
    providerStatus,
    runTask: automation.runTask,
    dependencies: automation.dependencies,
    cron: automation.cron,
    automation: automation.scheduler,
    startAutomation: () => {
      automation.scheduler.start()
      startRuleSync()
    },
    cliReady: async () => { await runner.ready() },
    claims,
    inbox,
    webhooks,
    nextCronRuns: (limit) => automation.cron.upcoming(limit).map((run) => ({
      id: run.id,
      title: automation.cron.store.get(run.id)?.title ?? run.id,
      at: new Date(run.at).toISOString()
    })),
    timezone,
    setApiUrl (url) { apiUrl = url },
    applyConfig,
    updateConfig,
    apiUrl: () => apiUrl,
    secrets,
    stopRuns,
    stopping: () => claims.isShut,
    async close () {
      if (ruleSyncTimer !== null) clearInterval(ruleSyncTimer)
      await stopRuns()
      // Handlers still waiting settle now; an entry that never started stays unfinished in the
      // journal and is replayed at the next start (src/store/inbox.ts).
      await inbox.stop(2000)
      await sessions.flush().catch((err: unknown) => logger.error({ err }, 'could not save sessions on shutdown'))
      await runs.close()
      await inbox.close().catch((err: unknown) => logger.error({ err }, 'could not close the inbox on shutdown'))
    }
  }
}

/** "today", "1 day ago", "12 days ago": how old a login is. */
export function loginAge (ms: number): string {
  const days = Math.floor(Math.max(0, ms) / 86_400_000)
  return days === 0 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`
}

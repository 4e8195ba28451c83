import { join } from 'node:path'
import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { HomePaths } from '../home/paths.ts'
import { createProcessRegistry, type ProcessRegistry } from '../providers/process-registry.ts'
import { createRunner } from '../providers/runner.ts'
import { createCliExecutor } from '../providers/executor.ts'
import { createSessionStore, type SessionStore } from './session-store.ts'
import { createRunHistory, type RunHistory } from '../store/run-history.ts'
import { defaultTimezone } from '../automation/cron-plan.ts'
import { installedClis } from '../home/variant.ts'
import type { CliExecutor } from './cli-executor.ts'
import { createLimiter, type Limiter } from './limiter.ts'
import { createCommandRegistry, type CommandRegistry } from './commands.ts'
import { registerCoreCommands } from './core-commands.ts'
import { createOrchestrator, type Orchestrator } from './orchestrator.ts'
import { createAutomation } from '../automation/create-automation.ts'
import type { CronControl } from '../automation/cron-control.ts'
import type { DependencyQueue } from '../automation/dependency-queue.ts'
import type { AutomationScheduler } from '../automation/scheduler.ts'
import type { RunTask } from '../automation/task-run-types.ts'

export interface CoreOptions {
  config: Config
  paths: HomePaths
  logger: Logger
  clock: Clock
  env?: NodeJS.ProcessEnv
  /** Replaces the real CLI executor (tests). */
  executor?: CliExecutor
  /** Tick interval of the automation loop (default 1000 ms). */
  automationTickMs?: number
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
  /** The zone for cron, quiet hours, daily reset: `user_timezone` → $TZ → host → UTC. */
  timezone: () => string
  /** Where the agent's `ductor` command reaches the admin API; set once the server listens. */
  setApiUrl: (url: string) => void
  apiUrl: () => string | null
  /** Applies a new validated config to everything that reads it live (PATCH /api/config). */
  applyConfig: (next: Config) => void
  /** Stops runs and children, flushes the stores. */
  close: () => Promise<void>
}

export async function createCore (opts: CoreOptions): Promise<Core> {
  const { paths, logger, clock } = opts
  const env = opts.env ?? process.env
  let config = opts.config
  let apiUrl: string | null = null
  const getConfig = (): Config => config
  const timezone = (): string => defaultTimezone(config.user_timezone, env['TZ'])

  const sessions = await createSessionStore({ path: paths.sessions, clock, logger: logger.child({ component: 'sessions' }) })
  const runs = await createRunHistory({ path: join(paths.state, 'runs.jsonl'), clock, logger: logger.child({ component: 'runs' }) })
  const registry = createProcessRegistry({ clock })
  const runner = createRunner({ logger: logger.child({ component: 'runner' }), registry, clock })
  const executor = opts.executor ?? createCliExecutor({
    config: getConfig,
    runner,
    home: paths.home,
    api: () => ({ url: apiUrl, token: config.admin.enabled ? config.admin.token : null }),
    baseEnv: env
  })
  const limiter = createLimiter(config.limits.max_concurrent_runs)
  const commands = createCommandRegistry()
  const orchestrator = createOrchestrator({ config: getConfig, paths, sessions, runs, cli: executor, limiter, clock, logger, timezone, commands })
  const automation = await createAutomation({
    chat: { config: getConfig, paths, sessions, runs, cli: executor, limiter, clock, logger, timezone },
    orchestrator,
    registry,
    tickMs: opts.automationTickMs
  })
  registerCoreCommands(commands, {
    config: getConfig,
    sessions,
    isBusy: orchestrator.isBusy,
    queueDepth: (chatId) => orchestrator.lanes.queueDepth(chatId),
    memoryPath: paths.memory,
    providerStatus: async () => {
      const installed = installedClis(config, env)
      const say = (ok: boolean, install: string): string => ok ? 'installed' : `not installed (${install})`
      return { claude: say(installed.claude, 'npm install -g @anthropic-ai/claude-code'), codex: say(installed.codex, 'npm install -g @openai/codex') }
    }
  })

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
    runTask: automation.runTask,
    dependencies: automation.dependencies,
    cron: automation.cron,
    automation: automation.scheduler,
    startAutomation: () => { automation.scheduler.start() },
    timezone,
    setApiUrl (url) { apiUrl = url },
    applyConfig (next) {
      config = next
      limiter.setMax(next.limits.max_concurrent_runs)
    },
    apiUrl: () => apiUrl,
    async close () {
      await automation.stop()
      for (const { chatId } of orchestrator.lanes.snapshot()) orchestrator.abort(chatId)
      await registry.killAll()
      await orchestrator.drain(3000)
      await automation.drain(3000)
      await sessions.flush().catch((err: unknown) => logger.error({ err }, 'could not save sessions on shutdown'))
      await runs.close()
    }
  }
}

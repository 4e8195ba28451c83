import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createProcessRegistry, type ProcessRegistry } from '../src/providers/process-registry.ts'
import { createRunner } from '../src/providers/runner.ts'
import { openCliGroups } from '../src/store/cli-groups.ts'
import { join } from 'node:path'
import { createCliExecutor, packageBinDir } from '../src/providers/executor.ts'
import { createSpawner } from '../src/providers/spawner.ts'
import type { CliExecutor } from '../src/providers/cli-executor.ts'
import { maskingExecutor } from '../src/core/masking-executor.ts'
import { createLimiter, type Limiter } from '../src/core/limiter.ts'
import type { RunLog } from '../src/core/run-log.ts'
import { newRunId } from '../src/store/run-history.ts'
import { stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { installedClis } from '../src/home/variant.ts'
import { findCliLogin } from '../src/ops/doctor-cli-checks.ts'
import { createClaimGate, type ClaimGate } from '../src/claims.ts'
import { askCodexModels, CODEX_MODELS_MAX_AGE_MS, readCachedCodexModels, writeCachedCodexModels } from '../src/ops/codex-models.ts'
import { resolveCliBinary } from '../src/providers/resolve-binary.ts'
import { setCodexCatalog } from '../src/models.ts'
import { createDockerSandbox, type Sandbox } from '../src/sandbox/docker-sandbox.ts'
import { createCommandRunner } from '../src/ops/runner.ts'
import { seedHome } from '../src/home/seed.ts'
import { detectCliVariant } from '../src/home/variant.ts'

export interface RunnerPart {
  /** Every CLI process of this service, by run id (GET /api/runs/active, DELETE /api/runs/:id). */
  registry: ProcessRegistry
  /** Runs one CLI turn; what it says is masked against the live secrets (ADR 0007). */
  executor: CliExecutor
  /** The run slots (`limits.max_concurrent_runs`). */
  limiter: Limiter
  /**
   * The run history as the run owners (chat runs, tasks, the heartbeat) record through it: a run
   * is pending in the registry from its start to its recorded end, so DELETE /api/runs/:id can tell
   * a run waiting for its process from a record nothing is working on.
   */
  runLog: RunLog
  /** Resolves once the runner can spawn without loading anything first (see Runner.ready). */
  ready: () => Promise<void>
  /** Whether each CLI is installed, in a few words (for /status and GET /api/status). */
  providerStatus: () => Promise<Record<'claude' | 'codex', string>>
  /** Whether each CLI is installed and logged in (the /start auth block, the provider fallback). */
  cliLogins: () => Promise<Record<'claude' | 'codex', CliLogin>>
  /** The claim gate: every CLI run is made for a claim; shut at shutdown (src/claims.ts). */
  claims: ClaimGate
  /** The Docker sandbox (`docker.*`): its state for /status and GET /api/status. */
  sandbox: Sandbox
}

/** One CLI as /status and /start describe it. */
export interface CliLogin {
  installed: boolean
  loggedIn: boolean
  /** In a few words: "installed, logged in 3 days ago", "not installed (npm install …)". */
  text: string
}

export interface RunnerOptions {
  /** Replaces the real CLI executor (tests). */
  executor?: CliExecutor
}

declare module 'fastify' {
  interface FastifyInstance {
    runner: RunnerPart
  }
}

/** The CLI runner: process registry, executor, run slots. Kills what is still running on close. */
async function runnerPlugin (app: FastifyInstance, opts: RunnerOptions): Promise<void> {
  const { config, paths, clock, logger, env, secrets } = app.settings
  const { runs } = app.stores
  const registry = createProcessRegistry({ clock })
  // Before anything can run or be replayed: every CLI the previous life of the service left running
  // (a kill -9) is ended, then this life's process groups are recorded as they start (issue 14).
  const groups = await openCliGroups(join(paths.state, 'cli-groups.jsonl'), logger.child({ component: 'runner' }), paths.pidFile)
  const runnerLog = logger.child({ component: 'runner' })
  // CLIs are spawned by a small spawner process, so the fork/exec wait never blocks this event loop
  // (ADR 0032); DUCTOR_SPAWNER=0 spawns them in this process instead. The spawner is in the group
  // list too: a later start ends it if it outlived this process.
  const spawner = env['DUCTOR_SPAWNER'] !== '0'
    ? createSpawner({
      script: join(packageBinDir(), 'ductor-spawner.mjs'),
      logger: runnerLog,
      // Names the home it serves (`ps e`, and the fault tests' search for survivors); no secret.
      env: { DUCTOR_HOME: paths.home },
      onStart: (pid) => { groups.add(pid).catch((err: unknown) => { runnerLog.warn({ err }, 'could not record the CLI spawner') }) },
      onEnd: (pid) => { groups.remove(pid) }
    })
    : undefined
  const runner = createRunner({ logger: runnerLog, registry, clock, groups, ...(spawner === undefined ? {} : { spawner }) })
  const userHome = (env['HOME'] ?? '') !== '' ? env['HOME'] as string : homedir()
  const sandbox = createDockerSandbox({
    docker: () => config().docker,
    home: paths.home,
    userHome,
    run: createCommandRunner({ env }),
    logger: logger.child({ component: 'sandbox' }),
    uid: process.getuid?.() ?? null,
    gid: process.getgid?.() ?? null,
    baseImage: env['DUCTOR_SANDBOX_BASE_IMAGE'],
    // The workspace rules tell the agent where it runs (docs/sandbox.md).
    onPlacement: async (where) => { await seedHome(paths.home, { variant: detectCliVariant(config(), env), placement: where }) }
  })
  const executor = maskingExecutor(opts.executor ?? createCliExecutor({
    config,
    runner,
    home: paths.home,
    api: () => ({ url: app.settings.apiUrl(), token: config().admin.enabled ? config().admin.token : null }),
    baseEnv: env,
    sandbox
  }), secrets)
  // The container is made ready (maybe the image built) as the service starts, not at the first message.
  app.addHook('onReady', async () => { if (config().docker.enabled) sandbox.prepare().catch(() => {}) })
  // The Codex models the installed codex offers, cached a day and refreshed daily (issue 17).
  const codexLog = logger.child({ component: 'codex-models' })
  let codexTimer: NodeJS.Timeout | null = null
  // Closing ends a discovery under way and waits for it: nothing is written into the home after close.
  const closing = new AbortController()
  let learning: Promise<void> = Promise.resolve()
  const learnCodexModels = async (): Promise<void> => {
    if (!installedClis(config(), env).codex) return
    const binary = resolveCliBinary('codex', { cliPaths: config().cli_paths, pathEnv: env['PATH'] ?? '' })
    const cached = await readCachedCodexModels(paths.state, binary, clock.now())
    if (cached !== null) {
      setCodexCatalog(cached.map((m) => m.slug))
      return
    }
    const asked = await askCodexModels(createCommandRunner({ env }), binary, closing.signal)
    if (closing.signal.aborted) return
    if (asked.models === null) {
      codexLog.info({ reason: asked.reason }, 'codex models: the installed codex cannot list its models; offering the built-in list')
      return
    }
    setCodexCatalog(asked.models.map((m) => m.slug))
    codexLog.info({ models: asked.models.map((m) => m.slug) }, 'codex models: learned from the installed codex')
    await writeCachedCodexModels(paths.state, binary, asked.models, clock.now()).catch((err: unknown) => { codexLog.warn({ err }, 'codex models: cannot cache them') })
  }
  const learn = (): void => {
    learning = learning.then(learnCodexModels).catch((err: unknown) => { codexLog.warn({ err }, 'codex models: discovery failed') })
  }
  app.addHook('onReady', async () => {
    learn()
    codexTimer = setInterval(learn, CODEX_MODELS_MAX_AGE_MS)
    codexTimer.unref()
  })
  app.addHook('onClose', async () => {
    if (codexTimer !== null) clearInterval(codexTimer)
    closing.abort()
    await learning
  })
  const limiter = createLimiter(config().limits.max_concurrent_runs)
  const claims = createClaimGate()
  app.settings.onApply((next) => { limiter.setMax(next.limits.max_concurrent_runs) })
  const runLog: RunLog = {
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
    },
    record: async (input) => await runs.record(input)
  }
  /** Per CLI, as the Python version's /status says it: installed, logged in, and how old the login is. */
  const login = async (provider: 'claude' | 'codex', install: string, how: string): Promise<CliLogin> => {
    if (!installedClis(config(), env)[provider]) return { installed: false, loggedIn: false, text: `not installed (${install})` }
    const userHome = (env['HOME'] ?? '') !== '' ? env['HOME'] as string : homedir()
    const found = await findCliLogin(provider, { env, userHome })
    if (found === null) return { installed: true, loggedIn: false, text: `installed, not logged in (run ${how})` }
    const at = found.file === null ? null : await stat(found.file).then((s) => s.mtimeMs, () => null)
    return { installed: true, loggedIn: true, text: at === null ? `installed, logged in (${found.how})` : `installed, logged in ${loginAge(clock.now() - at)}` }
  }
  const cliLogins = async (): Promise<Record<'claude' | 'codex', CliLogin>> => {
    const [claude, codex] = await Promise.all([
      login('claude', 'npm install -g @anthropic-ai/claude-code', '`claude`'),
      login('codex', 'npm install -g @openai/codex', '`codex login`')
    ])
    return { claude, codex }
  }
  app.decorate('runner', {
    registry,
    executor,
    limiter,
    runLog,
    claims,
    sandbox,
    ready: async () => { await runner.ready() },
    cliLogins,
    async providerStatus () {
      const { claude, codex } = await cliLogins()
      return { claude: claude.text, codex: codex.text }
    }
  } satisfies RunnerPart)
  // The runs were stopped in the app's preClose (src/app.ts, stopRuns); this makes sure no child
  // outlives the service.
  app.addHook('onClose', async () => {
    await registry.killAll()
    await spawner?.close()
    await groups.close().catch(() => {})
  })
}

/** "today", "1 day ago", "12 days ago": how old a login is. */
function loginAge (ms: number): string {
  const days = Math.floor(Math.max(0, ms) / 86_400_000)
  return days === 0 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`
}

export default fp(runnerPlugin, { name: 'runner', dependencies: ['settings', 'stores'] })

import { mkdir } from 'node:fs/promises'
import closeWithGrace from 'close-with-grace'
import { releaseHungUpTerminal } from './hangup.ts'
import { loadConfig, listenAddress, adminListenAddress, pinoLevel, ConfigError, configSecrets, describeUnknownKey, type Config } from './config.ts'
import { UserFileError } from './errors.ts'
import { createLogger, type Logger } from './logger.ts'
import { createSecretMask } from './secret-mask.ts'
import { locateHome, type HomePaths } from './home/paths.ts'
import { acquirePidLock, PidLockError, type PidLock } from './home/pid-lock.ts'
import { seedHome } from './home/seed.ts'
import { detectCliVariant } from './home/variant.ts'
import { writeServiceInfo, removeServiceInfo, writeSupervisorInfo } from './home/service-info.ts'
import { buildApp, type App } from './app.ts'
import { systemClock } from './clock.ts'
import { readVersion } from './version.ts'
import { serviceRestarter } from './ops/restarter.ts'
import { ALREADY_RUNNING_EXIT_CODE, CONFIG_ERROR_EXIT_CODE, RESTART_EXIT_CODE, signalExitCode } from './exit-codes.ts'
import { welcomeOnce } from './welcome.ts'

export interface Service {
  app: App
  config: Config
  paths: HomePaths
  logger: Logger
  /** The public listener: /health, /hooks, the Telegram webhook. */
  url: string
  /** The admin API's listener (/api), or null when admin.enabled is false. */
  adminUrl: string | null
  /** Graceful stop: stop intake, drain, kill children, flush stores, close the server. */
  close: () => Promise<void>
  /** Whether anything starts it again after exit 42 (src/ops/restarter.ts). */
  restartable: () => boolean
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  /** Extra log destination and no stdout (tests). */
  logDestination?: { write: (line: string) => void }
  /** Called by `/restart`: stop gracefully and exit with RESTART_EXIT_CODE. */
  requestRestart?: () => void
  /** Whether anything starts the service again after exit 42 (default: src/ops/restarter.ts on this process). */
  restartable?: () => boolean
}

/** Starts the whole service on its home: config → logger → lock → seed → app (its parts) → listen. */
export async function startService (opts: StartOptions = {}): Promise<Service> {
  const env = opts.env ?? process.env
  // The supervisor, while it lives, is the parent this process started with.
  const parentAtStart = process.ppid
  // Read once and removed: the CLIs and what they run must not inherit it (a `ductor serve` the agent
  // started would take itself for a supervisor's child and run unsupervised).
  const supervised = env['DUCTOR_SUPERVISED'] === '1'
  delete env['DUCTOR_SUPERVISED']
  const restartable = opts.restartable ?? (() => serviceRestarter(env, supervised, parentAtStart) !== null)
  // The config's home, and where the data is: the folder its ductor_home names, as the Python
  // ductor did, unless DUCTOR_HOME is set (ADR 0028). A ductor_home that is not there stops the
  // start before anything is written.
  const located = locateHome(env)
  if (located.error !== null) throw new ConfigError('ductor_home', located.error)
  const { paths, configHome } = located
  const home = paths.home
  await mkdir(configHome, { recursive: true })
  const { config, fileConfig, path: configPath, unknownKeys } = await loadConfig({ home: configHome, env })

  // The config's secrets are scrubbed from the first log line on; the settings plugin adds those of
  // every config applied later, the webhooks plugin every hook secret.
  const scrubber = createSecretMask()
  for (const secret of configSecrets(config)) scrubber.add(secret)
  const { logger, close: closeLogger } = createLogger({
    level: pinoLevel(config.log_level),
    logDir: paths.logs,
    pretty: opts.logDestination === undefined && process.stdout.isTTY,
    scrubber,
    extra: opts.logDestination,
    quietStdout: opts.logDestination !== undefined
  })

  for (const unknown of unknownKeys) logger.warn({ key: unknown.key, suggestion: unknown.suggestion }, describeUnknownKey(unknown))
  if (located.note !== null) logger[located.level]({ key: 'ductor_home', home, configHome }, located.note)
  if (config.model !== fileConfig.model && (env['DUCTOR_MODEL'] ?? '') === '') {
    logger.warn({ provider: config.provider, model: config.model, fileModel: fileConfig.model },
      `model "${fileConfig.model}" does not belong to the provider ${config.provider}: running ${config.provider} with its default model ${config.model} (set "model" in ${configPath} or DUCTOR_MODEL)`)
  }

  let lock: PidLock | undefined
  try {
    lock = await acquirePidLock(paths.pidFile)
    // Recorded now, before anything else can fail: a start that fails later (a port in use) is retried
    // by this supervisor after a backoff, and `ductor stop`/`status`/`restart` must find it meanwhile.
    if (supervised && parentAtStart > 1) await writeSupervisorInfo(paths.state, parentAtStart).catch(() => {})
    // The rules say the CLIs run in the sandbox when it is on; the sandbox rewrites them when Docker is not usable.
    await seedHome(home, { variant: detectCliVariant(config, env), placement: config.docker.enabled ? 'docker' : 'host', logger })
    const version = readVersion()
    const app = await buildApp({ config, fileConfig, configPath, paths, logger, clock: systemClock, env, secrets: scrubber, version, requestRestart: opts.requestRestart ?? (() => {}), restartable })
    // The admin API has a listener of its own, off the public port (ADR 14); it is up before /health answers.
    const adminUrl = config.admin.enabled ? await listenAdmin(app, config) : null
    const { host, port } = listenAddress(config)
    await app.listen({ host, port })
    const address = app.server.address()
    const boundPort = typeof address === 'object' && address !== null ? address.port : port
    const clientHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
    const url = `http://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${boundPort}`
    app.settings.setApiUrl(adminUrl ?? url)
    // The replay waits for the runner: nothing is loaded between a done mark and its spawn.
    await app.runner.ready()
    await app.inbox.start()
    await writeServiceInfo(paths.state, { pid: process.pid, url, admin_url: adminUrl, version, started_at: new Date().toISOString(), supervised, ...(supervised ? { supervisor_pid: parentAtStart } : {}) })
    logger.info({ url, adminUrl, home, version }, 'ductor is listening')
    let closed: Promise<void> | undefined
    return {
      app,
      config,
      paths,
      logger,
      url,
      adminUrl,
      restartable,
      close: async () => {
        closed ??= (async () => {
          try {
            await app.close()
          } finally {
            await removeServiceInfo(paths.state)
            lock?.release()
            logger.info('ductor stopped')
            closeLogger()
          }
        })()
        return await closed
      }
    }
  } catch (err) {
    lock?.release()
    closeLogger()
    throw err
  }
}

async function listenAdmin (app: App, config: Config): Promise<string> {
  const { host, port } = adminListenAddress(config)
  try {
    return await app.listenAdmin({ host, port })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new Error(`the admin API's address ${host}:${port} is already in use; set admin.port (or DUCTOR_ADMIN_PORT) to a free port`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new Error(`admin.host ${host} is not an address of this machine; set it to 127.0.0.1`)
    throw err
  }
}

/**
 * The process entry used by `ductor serve`: starts the service and makes close-with-grace the only
 * exit path (SIGINT/SIGTERM → exit 0; a restart request → exit 42). Startup errors print one line.
 */
export async function runService (opts: StartOptions = {}): Promise<void> {
  let exitCode = 0
  const closer: { close?: () => void } = {}
  let stopping = false
  let stopSignal: NodeJS.Signals | undefined
  /** The one way into the graceful stop; later calls (more signals, a restart request) are ignored. */
  const beginStop = (signal?: NodeJS.Signals): boolean => {
    if (stopping || closer.close === undefined) return false
    stopping = true
    stopSignal = signal
    closer.close()
    return true
  }
  const requestRestart = () => {
    if (!stopping) exitCode = RESTART_EXIT_CODE
    beginStop()
  }
  // A stop or restart signal while the service starts (state/service.json is written before the
  // handlers below exist) is kept and acted on once it listens, not left to the default action that
  // kills it unflushed; a second stop signal during the start ends it at once.
  let early: NodeJS.Signals | undefined
  const onEarly = (signal: NodeJS.Signals): void => {
    if (early !== undefined && signal !== 'SIGUSR2') process.exit(signalExitCode(signal))
    early ??= signal
  }
  for (const signal of [...STOP_SIGNALS, 'SIGUSR2'] as const) process.on(signal, onEarly)
  let service: Service
  try {
    service = await startService({ ...opts, requestRestart })
  } catch (err) {
    process.stderr.write(`ductor: ${startupMessage(err)}\n`)
    process.exit(err instanceof ConfigError || err instanceof UserFileError ? CONFIG_ERROR_EXIT_CODE : err instanceof PidLockError ? ALREADY_RUNNING_EXIT_CODE : 1)
  }
  // Once per home: where things are and the next step (stdout, like any CLI's first words).
  const welcome = await welcomeOnce({ url: service.url, paths: service.paths, config: service.config, envToken: ((opts.env ?? process.env)['DUCTOR_TELEGRAM_TOKEN'] ?? '') !== '', telegram: service.app.telegram?.state() ?? null })
    .catch((err: unknown) => { service.logger.warn({ err }, 'could not write the first-start marker'); return null })
  if (welcome !== null) process.stdout.write(welcome)
  // `ductor restart` asks a supervised service to restart (exit 42) with SIGUSR2.
  process.on('SIGUSR2', () => {
    // Only `ductor restart` sends it, and only to a service whose supervisor lives; if it died since,
    // exiting would leave the service down: `ductor restart` then stops and starts it instead.
    if (!service.restartable()) return service.logger.warn('restart requested by signal, but nothing would start ductor again (its supervisor is gone): not restarting; `ductor restart` stops and starts it')
    service.logger.info('restart requested by signal (ductor restart)')
    requestRestart()
  })
  closer.close = closeWithGrace({
    delay: 10_000,
    logger: { error: (m: unknown) => service.logger.error(m) },
    // Signals are ours (below). Fault signals (SIGSEGV, SIGBUS, …) must keep their default action: a
    // JavaScript handler returns to the faulting instruction, which faults again, forever.
    skip: [...CLOSE_WITH_GRACE_SIGNALS]
  }, async ({ err }) => {
    if (err !== undefined) service.logger.error({ err }, 'fatal error, shutting down')
    else service.logger.info({ signal: stopSignal }, 'shutting down')
    await service.close()
    if (stopSignal === 'SIGHUP') releaseHungUpTerminal()
    if (exitCode !== 0) process.exit(exitCode)
  }).close
  // One graceful stop, exit 0, however many stop signals arrive: Ctrl-C signals the whole process
  // group, so the supervisor's forwarded copy follows the terminal's own; a closed terminal (SIGHUP)
  // stops the service like SIGTERM. The 10 s deadline above still ends a stop that hangs.
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (!beginStop(signal)) service.logger.debug({ signal }, 'already stopping; signal ignored')
    })
  }
  for (const signal of [...STOP_SIGNALS, 'SIGUSR2'] as const) process.off(signal, onEarly)
  if (early === 'SIGUSR2') {
    if (service.restartable()) requestRestart()
    else service.logger.warn('restart requested by signal during the start, but nothing would start ductor again (its supervisor is gone): not restarting')
  } else if (early !== undefined) beginStop(early)
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
/** Every signal close-with-grace 2.x would otherwise listen to. */
const CLOSE_WITH_GRACE_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGUSR2', 'SIGTERM'] as const

function startupMessage (err: unknown): string {
  if (err instanceof ConfigError || err instanceof PidLockError || err instanceof UserFileError) return err.message
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'EADDRINUSE') return `the address is already in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}); set server.port or DUCTOR_PORT to a free port`
  if (e?.code === 'EACCES' || e?.code === 'EROFS' || e?.code === 'ENOSPC') return `cannot write ${e.path ?? 'the home directory'}: ${e.code}`
  return e?.message ?? String(err)
}

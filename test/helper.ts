import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, delimiter } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { buildApp, type App, type AppDeps } from '../src/app.ts'
import { completeConfig, loadConfig, type Config } from '../src/config.ts'
import { writeJsonAtomic } from '../src/atomic-json.ts'
import { homePaths, resolveHome, type HomePaths } from '../src/home/paths.ts'
import { seedHome } from '../src/home/seed.ts'
import { systemClock, type Clock } from '../src/clock.ts'
import { createFakeBin, type FakeBin } from './fakes/fake-bin.ts'
import type { CliExecutor } from '../src/providers/cli-executor.ts'
import { readServiceInfo, type ServiceInfo } from '../src/home/service-info.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI_ENTRY = join(ROOT, 'src', 'cli', 'entry.ts')

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir (t: Cleanup, prefix = 'ductor-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export function testConfig (overrides: Record<string, unknown> = {}): Config {
  // No skill sync: it would link into the ~/.claude and ~/.codex of whoever runs the tests (test/skills turns it on, on temp homes).
  // No update check either: it would `git fetch` this checkout and announce a newer main to the test's chats
  // (tests of the notice set update_check_hours themselves).
  const telegram = { update_check_hours: 0, ...(overrides['telegram'] as Record<string, unknown> | undefined) }
  return completeConfig({ admin: { token: 'test-admin-token-0123456789' }, skills: { sync: false }, ...overrides, telegram })
}

/** A silent logger that keeps its lines, so tests can look for (or rule out) things in the logs. */
export function memoryLogger (): { logger: pino.Logger, lines: string[] } {
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(line) } })
  return { logger, lines }
}

/** Something that runs cleanup when the test (or suite) ends: a TestContext, or `{ after }` from node:test. */
export interface Cleanup { after: (fn: () => Promise<void> | void) => unknown }

export interface BuildOptions {
  /** `config/config.json` as written (default `testConfig()`; with `serve`, none unless given). */
  config?: Config | Record<string, unknown>
  /** Added to process.env for the CLI children (put a fake bin dir on PATH here). */
  env?: NodeJS.ProcessEnv
  /** Replaces process.env entirely (the real CLIs get nothing of the host). */
  exactEnv?: NodeJS.ProcessEnv
  clock?: Clock
  /** The home's root folder (default: a fresh temporary one). */
  home?: string
  /** Runs on the home before the app is built (an upgrade marker, a memory file). */
  prepare?: (paths: HomePaths) => Promise<void>
  /** Replaces the real CLI executor. */
  executor?: CliExecutor
  /** Called by `/restart`. */
  requestRestart?: () => void
  telegramPollSeconds?: number
  /** Where the periodic update check looks and when it first runs. */
  updates?: AppDeps['updates']
  /** Listen on 127.0.0.1 (a random port) and start the inbox, for tests that talk HTTP to it. */
  listen?: boolean
  /**
   * Start it as `ductor serve --no-supervisor` does, in this process (src/main.ts startService):
   * config from the home and `env`, the PID lock, both listeners, `state/service.json` (so the
   * `ductor` commands find it), fake CLIs on PATH. `stop()` is the graceful stop.
   */
  serve?: boolean
}

export interface Built {
  app: App
  home: string
  paths: HomePaths
  logs: string[]
  /** The environment it runs with (for `ductor(args, env)` against it: DUCTOR_HOME is in it). */
  env: NodeJS.ProcessEnv
  /** The public listener (with `listen` or `serve`), else ''. */
  url: string
  /** The admin API's own listener (with `serve`), else null. */
  adminUrl: string | null
  /** Graceful stop (also run when the test ends); resolves 0 once it has stopped, as `ductor serve` exits 0. */
  stop: () => Promise<number>
}

/**
 * The one in-process way to start the service in a test: the whole app (every part) on a seeded
 * temporary home, closed (then the home removed) when the test ends. `inject()` reaches it without a
 * socket; `listen` or `serve` put it on 127.0.0.1. The other way is `spawnService` (its own process).
 */
export async function build (t: Cleanup, opts: BuildOptions = {}): Promise<Built> {
  const home = opts.home ?? await mkdtemp(join(tmpdir(), 'ductor-test-'))
  const closers: Array<() => Promise<void>> = []
  let stopped: Promise<number> | undefined
  const stop = async (): Promise<number> => {
    stopped ??= (async () => { for (const close of closers.reverse()) await close(); return 0 })()
    return await stopped
  }
  // One hook, in this order: the app (and the runs it drains) must be closed before its home goes.
  t.after(async () => {
    await stop()
    if (opts.home === undefined) await rm(home, { recursive: true, force: true })
  })
  const paths = homePaths(home)
  const { logger, lines } = memoryLogger()
  if (opts.serve === true) {
    if (opts.config !== undefined) await writeJsonAtomic(paths.config, opts.config)
    await opts.prepare?.(paths)
    const bin = await createFakeBin()
    closers.push(bin.cleanup)
    const env = { ...process.env, NODE_ENV: 'test', DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', PATH: `${bin.dir}${delimiter}${process.env['PATH'] ?? ''}`, ...opts.env }
    const { startService } = await import('../src/main.ts')
    const service = await startService({ env, logDestination: { write: (line: string) => { lines.push(line) } }, requestRestart: opts.requestRestart })
    closers.push(service.close)
    return { app: service.app, home, paths, logs: lines, env, url: service.url, adminUrl: service.adminUrl, stop }
  }
  await writeJsonAtomic(paths.config, opts.config ?? testConfig())
  const { config, fileConfig, path: configPath } = await loadConfig({ home, env: {} })
  await seedHome(home, { variant: 'both' })
  await opts.prepare?.(paths)
  const env = opts.exactEnv ?? { ...process.env, ...opts.env }
  const app = await buildApp({ config, fileConfig, configPath, paths, logger, clock: opts.clock ?? systemClock, env, executor: opts.executor, version: '0.0.0-test', requestRestart: opts.requestRestart ?? (() => {}), telegramPollSeconds: opts.telegramPollSeconds, ...(opts.updates !== undefined ? { updates: opts.updates } : {}) })
  closers.push(async () => { await app.close() })
  let url = ''
  if (opts.listen === true) {
    await app.listen({ host: '127.0.0.1', port: 0 })
    await app.inbox.start()
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  }
  return { app, home, paths, logs: lines, env: { ...env, DUCTOR_HOME: home }, url, adminUrl: null, stop }
}

/** Fake `claude`/`codex` executables on a temporary PATH entry (removed when the test ends). */
export async function fakeClis (t: Cleanup): Promise<FakeBin & { env: NodeJS.ProcessEnv }> {
  const bin = await createFakeBin()
  t.after(bin.cleanup)
  return { ...bin, env: { PATH: `${bin.dir}${delimiter}${process.env['PATH'] ?? ''}` } }
}

export interface CliRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/**
 * `ductor …` in this process: the command's own code (src/cli/main.ts `run`) with `env` added to
 * process.env, `stdin` as its input (not a terminal) and its output captured. Tests use this; only
 * what needs a process of its own (serve, signals, the installed package) spawns the binary (`runCli`).
 */
export async function ductor (args: string[], env: NodeJS.ProcessEnv = {}, opts: { stdin?: string } = {}): Promise<CliRun> {
  const { run } = await import('../src/cli/main.ts')
  let stdout = ''
  let stderr = ''
  const stdin = new PassThrough()
  stdin.end(opts.stdin ?? '')
  const code = await run(['node', 'ductor', ...args], {
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdout: { write: (text: string) => { stdout += text } },
    stderr: { write: (text: string) => { stderr += text } },
    stdin,
    self: [process.execPath, '--import', 'tsx', CLI_ENTRY]
  })
  return { code, signal: null, stdout, stderr }
}

/** Runs the `ductor` binary (from the sources) to completion in a process of its own. */
export async function runCli (args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number } = {}): Promise<CliRun> {
  const child = spawnCli(args, env)
  return await collect(child, opts.timeoutMs ?? 30_000)
}

export function spawnCli (args: string[], env: NodeJS.ProcessEnv, opts: { nodeArgs?: string[], exactEnv?: boolean, uid?: number } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...(opts.nodeArgs ?? []), CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: opts.exactEnv === true ? { NODE_ENV: 'test', ...env } : { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that gives up can kill `ductor serve` and the service it supervises.
    detached: true,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {})
  })
}

/** SIGKILL to the child's whole process group (spawnCli children), else to the child alone. */
export function killTree (child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

export async function collect (child: ChildProcess, timeoutMs: number): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => killTree(child), timeoutMs)
  // 'close' waits for the pipes; a grandchild left holding them must not hang the test, so after
  // 'exit' the pipes get two more seconds.
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (c, s) => resolve([c, s]))
    child.once('exit', (c, s) => {
      setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
        resolve([c, s])
      }, 2000).unref()
    })
  })
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}

export interface Spawned {
  child: ChildProcess
  /** Resolves with the exit code (or 128 + signal) once the process has gone. */
  exited: Promise<number>
  /** Its stdout and stderr so far. */
  output: () => string
  /** SIGTERM (a graceful stop) and its exit code. */
  stop: () => Promise<number>
  /** Waits until this service (not an earlier one on the home) answers /health; its `state/service.json`. */
  up: (timeoutMs?: number) => Promise<ServiceInfo>
}

/**
 * The one out-of-process way to start the service in a test: `ductor serve` from the sources in its
 * own process group on `env` (DUCTOR_HOME …; added to process.env unless `exactEnv`), `--no-supervisor`
 * unless `supervisor`, optionally with a preload module (`--import`) or as another user (`uid`). Killed with its group when the test ends. `serviceUp(home)` waits for it.
 */
export function spawnService (t: Cleanup, env: NodeJS.ProcessEnv, opts: { supervisor?: boolean, preload?: string, exactEnv?: boolean, uid?: number } = {}): Spawned {
  const child = spawnCli(['serve', ...(opts.supervisor === true ? [] : ['--no-supervisor'])], env, { nodeArgs: opts.preload !== undefined ? ['--import', opts.preload] : [], exactEnv: opts.exactEnv, uid: opts.uid })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) killTree(child) })
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { output += d })
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))))
  const home = resolveHome(opts.exactEnv === true ? env : { ...process.env, ...env })
  return {
    child,
    exited,
    output: () => output,
    // Unsupervised, the service is this very process; a supervisor's service is its child.
    up: async (timeoutMs = 60_000) => await Promise.race([
      waitFor(async () => {
        const info = await readServiceInfo(join(home, 'state'))
        if (info === null || (opts.supervisor !== true && info.pid !== child.pid)) return undefined
        return await fetch(`${info.url}/health`).then((r) => r.ok ? info : undefined, () => undefined)
      }, timeoutMs, 'the service to listen'),
      exited.then((code) => { throw new Error(`the service exited (${code}) before listening:\n${output.slice(-3000)}`) })
    ]),
    stop: async () => {
      child.kill('SIGTERM')
      return await exited
    }
  }
}

/** Waits for a service on `home` whose pid is not `notPid` to answer /health; its `state/service.json`. */
export async function serviceUp (home: string, notPid?: number, timeoutMs = 60_000): Promise<ServiceInfo> {
  return await waitFor(async () => {
    const info = await readServiceInfo(join(home, 'state'))
    if (info === null || info.pid === notPid) return undefined
    const ok = await fetch(`${info.url}/health`).then((r) => r.ok, () => false)
    return ok ? info : undefined
  }, timeoutMs, 'the service to listen')
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T> (fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

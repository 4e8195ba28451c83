import { mkdtemp, rm } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join, delimiter } from 'node:path'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { buildApp, type App, type AppDeps, type Part } from '../src/app.ts'
import type { Logger } from '../src/logger-types.ts'
import { completeConfig, loadConfig, type Config } from '../src/config.ts'
import { writeJsonAtomic } from '../src/atomic-json.ts'
import { homePaths, resolveHome, type HomePaths } from '../src/home/paths.ts'
import { seedHome } from '../src/home/seed.ts'
import { systemClock, type Clock } from '../src/clock.ts'
import { createFakeBin, type FakeBin } from './fakes/fake-bin.ts'
import { setCodexCatalog } from '../src/models.ts'
import type { CliExecutor } from '../src/providers/cli-executor.ts'
import { readServiceInfo, type ServiceInfo } from '../src/home/service-info.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI_ENTRY = join(ROOT, 'src', 'cli', 'entry.ts')
/**
 * The same entry as built by `npm run build` (dist/, kept up to date by `builtDist()`): what the
 * spawned `ductor` runs. A process through tsx costs ~1.9 s of CPU before it listens, the build ~0.75 s
 * (measured; 65 services a run), and the build is made once a run anyway (the build, `npm start` and
 * pack tests).
 */
export const BUILT_ENTRY = join(ROOT, 'dist', 'src', 'cli', 'entry.js')
/** The `ductor` command as npm installs it (bin/ductor: runs the build in dist/ when there is one). */
export const LAUNCHER = join(ROOT, 'bin', 'ductor')

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
  // No provider fallback either: a developer's own `codex login` would make every Claude test run Codex
  // (test/telegram/provider-fallback.test.ts turns it on, with logins of its own).
  const telegram = { update_check_hours: 0, ...(overrides['telegram'] as Record<string, unknown> | undefined) }
  return completeConfig({ admin: { token: 'test-admin-token-0123456789' }, skills: { sync: false }, provider_fallback: false, ...overrides, telegram })
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
  /**
   * `config/config.json` as written (default `testConfig()`; with `serve`, none unless given);
   * `null`: the home's own file as it is (a migrated home).
   */
  config?: Config | Record<string, unknown> | null
  /** Added to process.env for the CLI children (put a fake bin dir on PATH here). */
  env?: NodeJS.ProcessEnv
  /** Replaces process.env entirely (the real CLIs get nothing of the host; with `serve`: DUCTOR_HOME and HOME are the home unless given, no fake CLIs on PATH). */
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
  /** Whether something would start the service again after `/restart` (default: yes, as under a supervisor). */
  restartable?: () => boolean
  telegramPollSeconds?: number
  /** How often the skill folders are synced (default 30 s). */
  skillSyncMs?: number
  /** Where the periodic update check looks and when it first runs. */
  updates?: AppDeps['updates']
  /**
   * Only these parts (plugins and route groups, `Part` in src/app.ts) and what they need, as the
   * service registers them; default all. E.g. `['health']`, `['hooks']` (no Telegram, no admin API).
   */
  parts?: Part[]
  /** Listen on 127.0.0.1 (a random port) and start the inbox (when it is a part), for tests that talk HTTP to it. */
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
  /** Its logger (with `serve`, the service's own: secrets scrubbed, logs/ductor.log). */
  logger: Logger
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
 * The one in-process way to start the service in a test: the app (every part, or the `parts` the
 * test needs) on a seeded temporary home, closed (then the home removed) when the test ends. `inject()` reaches it without a
 * socket; `listen` or `serve` put it on 127.0.0.1. The other way is `spawnService` (its own process).
 */
export async function build (t: Cleanup, opts: BuildOptions = {}): Promise<Built> {
  const home = opts.home ?? await mkdtemp(join(tmpdir(), 'ductor-test-'))
  const closers: Array<() => Promise<void>> = []
  let stopped: Promise<number> | undefined
  const stop = async (): Promise<number> => {
    stopped ??= (async () => {
      for (const close of closers.reverse()) await close()
      // What the app learned into module state (the installed codex's models) goes with it, as with its
      // process: test files share processes (scripts/run-tests.mjs), and the next one expects a fresh start.
      setCodexCatalog(null)
      return 0
    })()
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
    if (opts.config !== undefined && opts.config !== null) await writeJsonAtomic(paths.config, opts.config)
    await opts.prepare?.(paths)
    let env: NodeJS.ProcessEnv
    if (opts.exactEnv !== undefined) {
      env = { DUCTOR_HOME: home, HOME: home, ...opts.exactEnv }
    } else {
      const bin = await createFakeBin()
      closers.push(bin.cleanup)
      env = { ...process.env, NODE_ENV: 'test', DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', PATH: `${bin.dir}${delimiter}${process.env['PATH'] ?? ''}`, ...opts.env }
    }
    const { startService } = await import('../src/main.ts')
    const service = await startService({ env, logDestination: { write: (line: string) => { lines.push(line) } }, requestRestart: opts.requestRestart, restartable: opts.restartable ?? (() => true) })
    closers.push(service.close)
    return { app: service.app, home, paths, logger: service.logger, logs: lines, env, url: service.url, adminUrl: service.adminUrl, stop }
  }
  if (opts.config !== null) await writeJsonAtomic(paths.config, opts.config ?? testConfig())
  const { config, fileConfig, path: configPath } = await loadConfig({ home, env: {} })
  await seedHome(home, { variant: 'both' })
  await opts.prepare?.(paths)
  const env = opts.exactEnv ?? { ...process.env, ...opts.env }
  const app = await buildApp({ config, fileConfig, configPath, paths, logger, clock: opts.clock ?? systemClock, env, executor: opts.executor, version: '0.0.0-test', requestRestart: opts.requestRestart ?? (() => {}), restartable: opts.restartable ?? (() => true), telegramPollSeconds: opts.telegramPollSeconds, skillSyncMs: opts.skillSyncMs, ...(opts.updates !== undefined ? { updates: opts.updates } : {}) }, opts.parts)
  closers.push(async () => { await app.close() })
  let url = ''
  if (opts.listen === true) {
    await app.listen({ host: '127.0.0.1', port: 0 })
    if (app.hasDecorator('inbox')) await app.inbox.start()
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  }
  return { app, home, paths, logger, logs: lines, env: { ...env, DUCTOR_HOME: home }, url, adminUrl: null, stop }
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

/** Runs the `ductor` binary (the build of the sources, `builtDist()`) to completion in a process of its own. */
export async function runCli (args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number } = {}): Promise<CliRun> {
  await builtDist()
  const child = spawnCli(args, env)
  return await collect(child, opts.timeoutMs ?? 30_000)
}

function spawnCli (args: string[], env: NodeJS.ProcessEnv, opts: { exactEnv?: boolean } = {}): ChildProcess {
  return spawn(process.execPath, [BUILT_ENTRY, ...args], {
    cwd: ROOT,
    env: opts.exactEnv === true ? { NODE_ENV: 'test', ...env } : { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that gives up can kill `ductor serve` and the service it supervises.
    detached: true
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

async function collect (child: ChildProcess, timeoutMs: number): Promise<CliRun> {
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
  /** Resolves with the exit code (or 128 + signal) once the process has gone and its output is read. */
  exited: Promise<number>
  /** Its stdout and stderr so far (interleaved as they arrived). */
  output: () => string
  stdout: () => string
  stderr: () => string
  /** SIGTERM (a graceful stop) and its exit code. */
  stop: () => Promise<number>
  /** With `terminal`: types into the terminal (`'\x03'` is Ctrl-C). */
  type: (text: string) => void
  /** With `terminal`: closes the terminal (a closed window: SIGHUP to its session). */
  hangup: () => void
  /** Waits until this service (not an earlier one on the home) answers /health; its `state/service.json`. */
  up: (timeoutMs?: number) => Promise<ServiceInfo>
}

export interface SpawnOptions {
  /** `ductor serve` with its supervisor (default `--no-supervisor`). */
  supervisor?: boolean
  /** `-v` before `serve` (debug logs). */
  verbose?: boolean
  /** A module node loads first (`--import`), e.g. one that breaks the disk. */
  preload?: string
  /** `env` is the whole environment (plus NODE_ENV=test), nothing of the host's. */
  exactEnv?: boolean
  /** Run as this user (and group). */
  uid?: number
  /** Another `ductor` to run instead of the checkout's build: the executable and its first arguments (a copied `node bin/ductor.js`, an installed `ductor`). */
  command?: string[]
  /** Its working directory (default the checkout). */
  cwd?: string
  /** The `ductor` arguments instead of `[-v] serve [--no-supervisor]` (e.g. `[]`: a bare `ductor`). */
  args?: string[]
  /**
   * In a pseudo-terminal of its own, as in a shell: stdin and stdout are TTYs, it leads the
   * terminal's session in its foreground group; `type` and `hangup` act on the terminal. `child` is
   * the terminal (python3's pty module); `exited` its command's exit code (or 128 + signal).
   */
  terminal?: boolean
}

// The terminal of `spawnService({ terminal })`: python3's pty module runs the command as the session
// leader of a new pseudo-terminal, copies stdin to it and its output to stdout, closes it on SIGUSR1
// (a hang-up), and exits with the command's status.
const PTY_SCRIPT = `
import json, os, pty, select, signal, sys
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
hung = [False]
signal.signal(signal.SIGUSR1, lambda *_: hung.__setitem__(0, True))
fds = [fd, 0]
status = None
while status is None:
    if hung[0] and fd in fds:
        os.close(fd)
        fds.remove(fd)
    r, _, _ = select.select(fds, [], [], 0.05)
    for f in r:
        try:
            data = os.read(f, 65536)
        except OSError:
            data = b''
        if not data:
            fds.remove(f)
        elif f == fd:
            os.write(1, data)
        elif fd in fds:
            os.write(fd, data)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
while fd in fds and select.select([fd], [], [], 0.05)[0]:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    os.write(1, data)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`

/**
 * The one out-of-process way to start the service in a test: `ductor serve` from the build of the
 * sources (dist/, rebuilt first when a source is newer: `builtDist()`) or `command`, in its own
 * process group on `env` (DUCTOR_HOME …; added to process.env unless `exactEnv`), `--no-supervisor`
 * unless `supervisor`, optionally with a preload module (`--import`) or as another user (`uid`). Killed with its group when the test ends. `up()` (or `serviceUp(home)`) waits for it.
 */
export async function spawnService (t: Cleanup, env: NodeJS.ProcessEnv, opts: SpawnOptions = {}): Promise<Spawned> {
  if (opts.command === undefined) await builtDist()
  const args = opts.args ?? [...(opts.verbose === true ? ['-v'] : []), 'serve', ...(opts.supervisor === true ? [] : ['--no-supervisor'])]
  const fullEnv: NodeJS.ProcessEnv = opts.exactEnv === true ? { NODE_ENV: 'test', ...env } : { ...process.env, NODE_ENV: 'test', ...env }
  // A supervised serve starts as a user starts it: the `ductor` command (bin/ductor, a sh launcher
  // whose shell becomes the supervisor; ADR 46). With a preload, `node --import … ductor.js serve`:
  // node supervises through the same sh loop and gives the service its flags.
  const launcher = opts.command === undefined && opts.preload === undefined && (opts.supervisor === true || opts.args !== undefined)
  const argv = opts.command !== undefined
    ? [...opts.command, ...args]
    : launcher ? [LAUNCHER, ...args] : [process.execPath, ...(opts.preload !== undefined ? ['--import', opts.preload] : []), BUILT_ENTRY, ...args]
  const child = opts.terminal === true
    ? spawn('python3', ['-c', PTY_SCRIPT, JSON.stringify(argv)], { cwd: opts.cwd ?? ROOT, env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn(argv[0] ?? '', argv.slice(1), { cwd: opts.cwd ?? ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) })
  let output = ''
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { output += d; stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { output += d; stderr += d })
  // 'close' waits for the pipes (all output read); a grandchild left holding them must not hang the
  // test (nor keep its process from ending), so after 'exit' the pipes get two more seconds.
  const exited = new Promise<number>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))
    child.once('close', done)
    child.once('exit', (code, signal) => {
      setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
        done(code, signal)
      }, 2000).unref()
    })
  })
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) killTree(child)
    await exited
  })
  // Where the child finds its home: DUCTOR_HOME, else ~/.ductor of the HOME it is given.
  const home = (fullEnv['DUCTOR_HOME'] ?? '') !== '' ? resolveHome(fullEnv) : join(fullEnv['HOME'] ?? homedir(), '.ductor')
  return {
    child,
    exited,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    // Unsupervised, the service is this very process; a supervisor's service is its child.
    up: async (timeoutMs = 60_000) => await Promise.race([
      waitFor(async () => {
        const info = await readServiceInfo(join(home, 'state'))
        // (In a terminal, the child is the terminal: any service on the home.)
        if (info === null || (opts.supervisor !== true && opts.terminal !== true && info.pid !== child.pid)) return undefined
        return await fetch(`${info.url}/health`).then((r) => r.ok ? info : undefined, () => undefined)
      }, timeoutMs, 'the service to listen'),
      exited.then((code) => { throw new Error(`the service exited (${code}) before listening:\n${output.slice(-3000)}`) })
    ]),
    stop: async () => {
      child.kill('SIGTERM')
      return await exited
    },
    type: (text) => { child.stdin?.write(text) },
    hangup: () => { child.kill('SIGUSR1') }
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

/**
 * dist/ as `npm run build` makes it (`scripts/build-if-stale.mjs`, what `npm start` and `npm pack`
 * run: `tsc -p tsconfig.build.json`, only when a source is newer than the last build), built once
 * however many test processes ask at the same time (the script takes a lock per checkout): the
 * spawned `ductor` (spawnService, runCli), the build, `npm start` and pack tests share one compilation,
 * which the test runner starts as the tests start.
 */
export async function builtDist (): Promise<void> {
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.mjs')], { cwd: ROOT, timeout: 600_000 })
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

/** A small seeded generator (mulberry32), so a failing randomized test can be replayed with its seed. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One HTTP/1.1 request written as given (fetch would normalise a broken %-escape); the whole answer, as received. */
export async function rawHttp (url: string, request: string): Promise<string> {
  const { connect } = await import('node:net')
  const { hostname, port } = new URL(url)
  return await new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    let got = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { got += d })
    socket.on('close', () => resolve(got))
    socket.on('error', () => resolve(got))
    socket.setTimeout(5000, () => socket.destroy())
    socket.end(request)
  })
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, delimiter } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import pino from 'pino'
import { buildApp, type App } from '../src/app.ts'
import { completeConfig, loadConfig, type Config } from '../src/config.ts'
import { writeJsonAtomic } from '../src/atomic-json.ts'
import { homePaths, type HomePaths } from '../src/home/paths.ts'
import { seedHome } from '../src/home/seed.ts'
import { systemClock, type Clock } from '../src/clock.ts'
import { createFakeBin, type FakeBin } from './fakes/fake-bin.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI_ENTRY = join(ROOT, 'src', 'cli', 'entry.ts')

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir (t: TestContext, prefix = 'ductor-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export function testConfig (overrides: Record<string, unknown> = {}): Config {
  // No skill sync: it would link into the ~/.claude and ~/.codex of whoever runs the tests (test/skills turns it on, on temp homes).
  return completeConfig({ admin: { token: 'test-admin-token-0123456789' }, skills: { sync: false }, ...overrides })
}

/** A silent logger that keeps its lines, so tests can look for (or rule out) things in the logs. */
export function memoryLogger (): { logger: pino.Logger, lines: string[] } {
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(line) } })
  return { logger, lines }
}

export interface Built {
  app: App
  home: string
  paths: HomePaths
  logs: string[]
}

/**
 * Builds the whole app (every part) on a seeded temporary home and closes it when the test ends.
 * `env` is added to process.env for the CLI children (put a fake bin dir on PATH here); `exactEnv`
 * replaces process.env entirely (the real CLIs get nothing of the host).
 */
export async function buildFull (t: TestContext, opts: { config?: Config, env?: NodeJS.ProcessEnv, exactEnv?: NodeJS.ProcessEnv, clock?: Clock } = {}): Promise<Built> {
  const home = await mkdtemp(join(tmpdir(), 'ductor-test-'))
  const built: { app?: App } = {}
  // One hook, in this order: the app (and the runs it drains) must be closed before its home goes.
  t.after(async () => {
    await built.app?.close()
    await rm(home, { recursive: true, force: true })
  })
  const paths = homePaths(home)
  await writeJsonAtomic(paths.config, opts.config ?? testConfig())
  const { config, fileConfig, path: configPath } = await loadConfig({ home, env: {} })
  await seedHome(home, { variant: 'both' })
  const { logger, lines } = memoryLogger()
  const app = built.app = await buildApp({ config, fileConfig, configPath, paths, logger, clock: opts.clock ?? systemClock, env: opts.exactEnv ?? { ...process.env, ...opts.env }, version: '0.0.0-test', requestRestart: () => {} })
  return { app, home, paths, logs: lines }
}

/** Builds the app on a temporary home and closes it when the test ends. */
export async function build (t: TestContext, config: Config = testConfig()): Promise<App> {
  return (await buildFull(t, { config })).app
}

/** Fake `claude`/`codex` executables on a temporary PATH entry (removed when the test ends). */
export async function fakeClis (t: TestContext): Promise<FakeBin & { env: NodeJS.ProcessEnv }> {
  const bin = await createFakeBin()
  t.after(bin.cleanup)
  return { ...bin, env: { PATH: `${bin.dir}${delimiter}${process.env['PATH'] ?? ''}` } }
}

export interface CliRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** Runs the `ductor` command (from the sources) to completion. */
export async function runCli (args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number } = {}): Promise<CliRun> {
  const child = spawnCli(args, env)
  return await collect(child, opts.timeoutMs ?? 30_000)
}

export function spawnCli (args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', ...env },
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

/**
 * The supervisor of `ductor serve` and the way into the service. This file is what `ductor serve`
 * loads (src/cli/entry.ts takes a short path to it): it imports only node:child_process and, when
 * needed, the few modules it uses, so the supervisor costs little more than a bare node (ADR 25).
 */
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { ALREADY_RUNNING_EXIT_CODE, CONFIG_ERROR_EXIT_CODE, RESTART_EXIT_CODE, signalExitCode } from '../exit-codes.ts'

/**
 * The policy (ADR 1, ADR 19, ADR 43). When the child exits because another ductor holds the home's
 * lock (exit 75), the supervisor exits 75 at once and touches nothing: the CLIs recorded in the home
 * are the other ductor's. Whenever the child exits for another reason, the CLI process groups it
 * recorded are ended first (only groups whose owning service process is dead: never a live
 * ductor's). Then: exit 0 (a stop) ends the supervisor with 0; exit 42 (`/restart`, an
 * upgrade) starts the service again at once; exit 2 (a config error at startup) ends it with 2, a
 * restart cannot fix that; anything else (a crash, a non-zero exit, a kill -9 of the service alone)
 * starts it again after a backoff (1 s, doubling to 30 s), unless it crashed `CRASH_LIMIT` times
 * within `CRASH_WINDOW_MS`: then the supervisor gives up with the child's code (no crash loop spins).
 * SIGINT, SIGTERM and SIGHUP are passed on and end the supervisor with the child's code.
 */

/** Runs the service here (`--no-supervisor`, or as the supervisor's child) or supervises it. */
export async function runServe (supervisor: boolean, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!supervisor || env['DUCTOR_SUPERVISED'] === '1') {
    forgetChildMemorySettings(env)
    const { runService } = await import('../main.ts')
    await runService({ env })
    return
  }
  await supervise()
}

export const CRASH_LIMIT = 5
export const CRASH_WINDOW_MS = 5 * 60_000
const FIRST_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000

/**
 * What the supervisor does after the child ended with `code` (`128 + n` for signal n), given the
 * times of the earlier crashes: exit with a code, or start the service again after `delayMs`.
 */
export function afterChildExit (code: number, crashes: readonly number[], now: number): { exit: number } | { restart: true, delayMs: number, crashes: number[] } {
  if (code === 0 || code === CONFIG_ERROR_EXIT_CODE || code === ALREADY_RUNNING_EXIT_CODE) return { exit: code }
  if (code === RESTART_EXIT_CODE) return { restart: true, delayMs: 0, crashes: [...crashes] }
  const recent = [...crashes.filter((at) => now - at < CRASH_WINDOW_MS), now]
  if (recent.length >= CRASH_LIMIT) return { exit: code }
  return { restart: true, delayMs: Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (recent.length - 1)), crashes: recent }
}

export async function supervise (): Promise<never> {
  const script = process.argv[1] as string
  let child: ReturnType<typeof spawn> | undefined
  let stopping = false
  let hungUp = false
  const stopped = new AbortController()
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      stopping = true
      if (signal === 'SIGHUP') hungUp = true
      // The service stops once, however many copies reach it (it got its own when the whole group was signalled).
      child?.kill(signal)
      stopped.abort()
    })
  }
  const exit = async (code: number): Promise<never> => {
    if (hungUp) {
      const { releaseHungUpTerminal } = await import('../hangup.ts')
      releaseHungUpTerminal()
    }
    process.exit(code)
  }
  let crashes: number[] = []
  for (;;) {
    child = spawn(process.execPath, [...process.execArgv, script, 'serve', '--no-supervisor'], {
      stdio: 'inherit',
      env: { ...childMemorySettings(process.env), DUCTOR_SUPERVISED: '1' }
    })
    const pid = child.pid
    const { code, how } = await new Promise<{ code: number, how: string }>((resolve) => {
      child?.once('exit', (code, signal) => resolve(code !== null
        ? { code, how: `exit code ${code}` }
        : { code: signal === null ? 1 : signalExitCode(signal), how: `signal ${signal ?? '?'}` }))
    })
    child = undefined
    // Refused: another ductor runs on this home. Its CLIs are not ours to end; its message was printed.
    if (code === ALREADY_RUNNING_EXIT_CODE) await exit(code)
    // A child that died (kill -9, a crash) leaves its CLIs running in their own process groups.
    await endChildClis()
    if (stopping) await exit(code)
    const next = afterChildExit(code, crashes, Date.now())
    if ('exit' in next) {
      if (next.exit !== 0 && next.exit !== CONFIG_ERROR_EXIT_CODE && next.exit !== ALREADY_RUNNING_EXIT_CODE) process.stderr.write(`ductor: the service (pid ${pid ?? '?'}) ended with ${how}, its ${CRASH_LIMIT}th crash within ${CRASH_WINDOW_MS / 60_000} minutes: giving up (see the log in logs/)\n`)
      await exit(next.exit)
      throw new Error('unreachable')
    }
    crashes = next.crashes
    if (code === RESTART_EXIT_CODE) {
      process.stderr.write('ductor: restarting\n')
      continue
    }
    process.stderr.write(`ductor: the service (pid ${pid ?? '?'}) ended unexpectedly with ${how}; restarting it in ${next.delayMs / 1000} s (crash ${crashes.length} of at most ${CRASH_LIMIT - 1} within ${CRASH_WINDOW_MS / 60_000} minutes)\n`)
    await sleep(next.delayMs, undefined, { signal: stopped.signal }).catch(() => {})
    if (stopping) await exit(0)
  }
}
/**
 * The glibc setting of the service the supervisor starts (ADR 37). glibc gives each thread that
 * allocates (V8's platform workers, libuv's pool) an arena of its own, up to 8 per core, and an arena
 * keeps what was freed in it; `MALLOC_ARENA_MAX=2` (documented in mallopt(3), read when the process
 * starts) shares two among them: ~3 MB less RSS at idle, no cost measured on the webhook route. A
 * value the user set wins. It is set only for the service's own start: the service removes it from
 * its environment before it starts anything (`forgetChildMemorySettings`), so the CLIs and their
 * tools never see it. (V8's young generation, the other ~12 MB an idle service keeps, is left at
 * its default: capping it with --max-semi-space-size costs the webhook route throughput; ADR 37.)
 */
export const SERVICE_MALLOC_ARENA_MAX = 2
const ARENA_MARK = 'DUCTOR_SET_MALLOC_ARENA_MAX'

/** The service's environment: the supervisor's, with MALLOC_ARENA_MAX unless the user set one. */
export function childMemorySettings (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if ((env['MALLOC_ARENA_MAX'] ?? '') !== '') return { ...env }
  return { ...env, MALLOC_ARENA_MAX: String(SERVICE_MALLOC_ARENA_MAX), [ARENA_MARK]: '1' }
}

/** In the service: drops the glibc setting its supervisor added (glibc read it at exec), so nothing the service starts inherits it. */
export function forgetChildMemorySettings (env: NodeJS.ProcessEnv): void {
  if (env[ARENA_MARK] !== '1') return
  delete env[ARENA_MARK]
  delete env['MALLOC_ARENA_MAX']
}

async function endChildClis (): Promise<void> {
  try {
    const { resolvePaths } = await import('../home/paths.ts')
    const { killRecordedGroups } = await import('../store/cli-groups.ts')
    const { join } = await import('node:path')
    const paths = resolvePaths(process.env)
    const killed = await killRecordedGroups(join(paths.state, 'cli-groups.jsonl'), { lockPath: paths.pidFile })
    if (killed > 0) process.stderr.write(`ductor: ended ${killed} CLI process(es) the service left running\n`)
  } catch (err) {
    process.stderr.write(`ductor: could not end the service's CLI processes: ${(err as Error).message}\n`)
  }
}

/**
 * The way into the service, and what is left of the supervisor in node (ADR 25, ADR 46). The
 * supervisor of `ductor serve` is a POSIX sh loop, bin/ductor-supervise.sh (~1 MB instead of a
 * node's ~44 MB), with the policy of ADR 1, ADR 19 and ADR 43:
 * when the child exits because another ductor holds the home's lock (exit 75), the supervisor exits
 * 75 at once and touches nothing: the CLIs recorded in the home are the other ductor's. Whenever the
 * child exits for another reason, the CLI process groups it recorded are ended first (only groups
 * whose owning service process is dead: never a live ductor's), by a short node of this file
 * (`DUCTOR_END_CLIS=1`). Then: exit 0 (a stop) ends the supervisor with 0; exit 42 (`/restart`, an
 * upgrade) starts the service again at once; exit 2 (a config error at startup) ends it with 2, a
 * restart cannot fix that; anything else (a crash, a non-zero exit, a kill -9 of the service alone)
 * starts it again after a backoff (1 s, doubling to 30 s), unless it crashed 5 times within 5
 * minutes: then the supervisor gives up with the child's code (no crash loop spins). SIGINT, SIGTERM
 * and SIGHUP are passed on and end the supervisor with the child's code.
 *
 * This file is what `ductor serve` loads (src/cli/entry.ts takes a short path to it): it imports
 * only node:child_process and, when needed, the few modules it uses.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SUPERVISE_EXIT_CODE, SUPERVISE_VERBOSE_EXIT_CODE, signalExitCode } from '../exit-codes.ts'

/**
 * What `ductor serve` (and `serve --no-supervisor`) does, by the role its process was given:
 * - `DUCTOR_END_CLIS=1`: the supervisor's clean-up after its child exited; ends the recorded CLI groups;
 * - `--no-supervisor`, or `DUCTOR_SUPERVISED=1` (the supervisor's child): runs the service here;
 * - started by bin/ductor (`DUCTOR_LAUNCHER=1`): answers "supervise" with its exit code, and the
 *   launcher's shell becomes the supervisor (no node stays resident);
 * - otherwise (`node …/ductor.js serve`): runs the sh supervisor as its child and waits for it.
 */
export async function runServe (supervisor: boolean, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env['DUCTOR_END_CLIS'] === '1') {
    await endChildClis(env)
    return
  }
  if (!supervisor || env['DUCTOR_SUPERVISED'] === '1') {
    forgetChildMemorySettings(env)
    const { runService } = await import('../main.ts')
    await runService({ env })
    return
  }
  if (env['DUCTOR_LAUNCHER'] === '1') process.exit(env['DUCTOR_LOG_LEVEL'] === 'DEBUG' ? SUPERVISE_VERBOSE_EXIT_CODE : SUPERVISE_EXIT_CODE)
  await superviseFromNode(env)
}

/** bin/ductor-supervise.sh of this installation, from src/ or dist/src/. */
export function supervisorScript (): string {
  const up = import.meta.url.includes('/dist/src/') ? '../../../' : '../../'
  return fileURLToPath(new URL(`${up}bin/ductor-supervise.sh`, import.meta.url))
}

/**
 * The sh supervisor of the service `self` (`[node, ...its flags, the ductor script]`) starts:
 * `/bin/sh bin/ductor-supervise.sh --loop node … serve --no-supervisor`.
 */
export function supervisorCommand (self: readonly string[]): string[] {
  return ['/bin/sh', supervisorScript(), '--loop', ...self, 'serve', '--no-supervisor']
}

/**
 * `node …/ductor.js serve` (not through bin/ductor): node cannot exec() the shell, so it stays as the
 * sh supervisor's parent, passes INT/TERM/HUP on to it and ends with its code. The service gets
 * this node's flags (`process.execArgv`) and environment (verbose, PATH) as before.
 */
async function superviseFromNode (env: NodeJS.ProcessEnv): Promise<never> {
  const [sh0 = '/bin/sh', ...shArgs] = supervisorCommand([process.execPath, ...process.execArgv, process.argv[1] as string])
  const sh = spawn(sh0, shArgs, { stdio: 'inherit', env })
  let hungUp = false
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (signal === 'SIGHUP') hungUp = true
      sh.kill(signal)
    })
  }
  const code = await new Promise<number>((resolve) => {
    sh.once('error', (err) => {
      process.stderr.write(`ductor: could not start the supervisor (/bin/sh): ${err.message}\n`)
      resolve(1)
    })
    sh.once('exit', (code, signal) => resolve(code ?? signalExitCode(signal ?? 'SIGTERM')))
  })
  if (hungUp) {
    const { releaseHungUpTerminal } = await import('../hangup.ts')
    releaseHungUpTerminal()
  }
  process.exit(code)
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

/** In the service: drops the glibc setting its supervisor added (glibc read it at exec), so nothing the service starts inherits it. */
export function forgetChildMemorySettings (env: NodeJS.ProcessEnv): void {
  if (env[ARENA_MARK] !== '1') return
  delete env[ARENA_MARK]
  delete env['MALLOC_ARENA_MAX']
}

/**
 * The supervisor's clean-up (a node of its own, started by bin/ductor-supervise.sh after the service
 * exited): ends the CLI groups the service recorded whose owner is dead. A stop signal does not cut
 * it short (Ctrl-C reaches the whole group); after a hang-up it leaves the terminal before exiting.
 */
async function endChildClis (env: NodeJS.ProcessEnv): Promise<void> {
  let hungUp = false
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => { if (signal === 'SIGHUP') hungUp = true })
  try {
    const { resolvePaths } = await import('../home/paths.ts')
    const { killRecordedGroups } = await import('../store/cli-groups.ts')
    const { join } = await import('node:path')
    const paths = resolvePaths(env)
    const killed = await killRecordedGroups(join(paths.state, 'cli-groups.jsonl'), { lockPath: paths.pidFile })
    if (killed > 0) process.stderr.write(`ductor: ended ${killed} CLI process(es) the service left running\n`)
  } catch (err) {
    process.stderr.write(`ductor: could not end the service's CLI processes: ${(err as Error).message}\n`)
  }
  if (hungUp) {
    const { releaseHungUpTerminal } = await import('../hangup.ts')
    releaseHungUpTerminal()
  }
}

import { Command } from 'commander'
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolvePaths, type HomePaths } from '../home/paths.ts'
import { readPidFile, holderAlive, type LockHolder } from '../home/pid-lock.ts'
import { parentPid } from '../home/process-identity.ts'
import { readLiveSupervisor, readServiceInfo } from '../home/service-info.ts'
import { isProcessAlive } from '../providers/process-group.ts'
import { processFacts } from '../ops/process-context.ts'
import { createCommandRunner } from '../ops/runner.ts'
import { createServiceManager, type ServiceManager } from '../ops/service-manager.ts'
import { initCommand } from './init.ts'
import { supervisorCommand } from './supervise.ts'
import type { CliIo } from './io.ts'
import { readConfigReadOnly } from '../ops/config-read.ts'
import { createDockerSandbox } from '../sandbox/docker-sandbox.ts'

/**
 * The lifecycle commands a Python ductor user types (`ductor stop`, `restart`, `uninstall`,
 * `reset`/`onboarding`). Each works on the service of this home: through the service manager when
 * ductor runs as a systemd/launchd service, else through its process (the pid lock in the home).
 */

const STOP_WAIT_MS = 20_000
const START_WAIT_MS = 60_000

interface Target {
  paths: HomePaths
  manager: ServiceManager | null
  /** The service manager runs ductor right now. */
  managed: boolean
}

async function target (env: NodeJS.ProcessEnv): Promise<Target> {
  const paths = resolvePaths(env)
  let manager: ServiceManager | null = null
  let managed = false
  try {
    manager = createServiceManager({ ...processFacts(env), env, runner: createCommandRunner({ env }), logDir: paths.logs })
    const status = await manager.status()
    managed = status.installed && status.active
  } catch {
    manager = null
  }
  return { paths, manager, managed }
}

/**
 * The ductor holding this home's lock, or null when none runs. A lock whose pid is gone or now
 * belongs to another process (a `kill -9`, then pid reuse) is stale: nothing runs, and that process
 * is never signalled (ADR 43).
 */
async function runningHolder (paths: HomePaths): Promise<LockHolder | null> {
  const holder = await readPidFile(paths.pidFile)
  return holder?.alive === true ? holder : null
}

/** SIGTERM to the service (a graceful stop: runs end, stores are flushed), then waits for it to go. */
async function stopProcess (holder: LockHolder): Promise<boolean> {
  // Checked again at the last moment: the service may have ended (and its pid been reused) since.
  if (!holderAlive(holder)) return true
  return await terminate(holder.pid, () => holderAlive(holder))
}

/** SIGTERM to a supervisor waiting out its backoff: it ends with 0 without starting the service. */
async function stopSupervisor (pid: number): Promise<boolean> {
  return await terminate(pid, () => isProcessAlive(pid))
}

/** SIGTERM to `pid`, then waits (at most STOP_WAIT_MS) until `alive` says it has gone. */
async function terminate (pid: number, alive: () => boolean): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return true
  }
  const until = Date.now() + STOP_WAIT_MS
  while (Date.now() < until) {
    if (!alive()) return true
    await sleep(100)
  }
  return !alive()
}

/**
 * `ductor serve` in the background, detached from this terminal: the sh supervisor and its service
 * (no node waits above it, ADR 46); resolves once the new service answers. What a terminal would
 * show (the supervisor's crash and give-up lines, a start that fails before the log is open, such
 * as a port in use) is appended to `logs/serve.log`.
 */
async function startDetached (io: CliIo, paths: HomePaths, previousStart: string | null): Promise<string> {
  const [sh = '/bin/sh', ...args] = supervisorCommand(io.self)
  await mkdir(paths.logs, { recursive: true })
  const output = openSync(join(paths.logs, SERVE_LOG), 'a', 0o600)
  let pid: number | undefined
  try {
    const child = spawn(sh, args, {
      detached: true,
      // stdout is the service's own log lines (already in logs/ductor.log): only stderr is kept.
      stdio: ['ignore', 'ignore', output],
      env: io.env
    })
    child.unref()
    pid = child.pid
  } finally {
    closeSync(output)
  }
  return await waitForStart(paths, previousStart, pid)
}

/** Where a `ductor serve` started in the background writes what a terminal would show. */
export const SERVE_LOG = 'serve.log'

/** Waits for a new service; `supervisor`: the process that starts it, whose end (a start that failed, e.g. a broken config) ends the wait. */
async function waitForStart (paths: HomePaths, previousStart: string | null, supervisor?: number): Promise<string> {
  const until = Date.now() + START_WAIT_MS
  while (Date.now() < until) {
    const gone = supervisor !== undefined && !isProcessAlive(supervisor)
    const info = await readServiceInfo(paths.state)
    if (info !== null && info.started_at !== previousStart) return `ductor is running again (pid ${info.pid}, ${info.url})`
    if (gone) throw new Error(`ductor did not come back: its supervisor (pid ${supervisor}) ended, so the new start failed (a broken config.json, a port in use); \`ductor serve\` in a terminal shows why, and logs/ductor.log and logs/${SERVE_LOG} in ${paths.home} may too`)
    await sleep(200)
  }
  throw new Error(`ductor did not come back within ${START_WAIT_MS / 1000} s; see logs/ductor.log and logs/${SERVE_LOG} in ${paths.home}`)
}

async function stopService (io: CliIo, out: (text: string) => void): Promise<boolean> {
  const t = await target(io.env)
  if (t.managed && t.manager !== null) {
    await t.manager.stop()
    out(`Stopped the ${t.manager.kind} service (it starts again at ${t.manager.kind === 'systemd' ? 'boot' : 'login'}; ductor service uninstall removes it).\n`)
    return true
  }
  const holder = await runningHolder(t.paths)
  if (holder === null) {
    // Between a crash and the next start (the backoff, up to 30 s) only the supervisor runs: it would start the service again.
    const supervisor = await readLiveSupervisor(t.paths.state)
    if (supervisor !== null) {
      if (!await stopSupervisor(supervisor)) throw new Error(`ductor's supervisor (pid ${supervisor}) did not stop within ${STOP_WAIT_MS / 1000} s; stop it with: kill ${supervisor}`)
      out(`Stopped ductor's supervisor (pid ${supervisor}); it was waiting to start the service again after a crash.\n`)
      return true
    }
    out(`ductor is not running (home ${t.paths.home}).\n`)
    return false
  }
  const pid = holder.pid
  if (!await stopProcess(holder)) throw new Error(`ductor (pid ${pid}) did not stop within ${STOP_WAIT_MS / 1000} s; stop it with: kill -9 ${pid}`)
  out(`Stopped ductor (pid ${pid}).\n`)
  return true
}

export function stopCommand (io: CliIo): Command {
  return new Command('stop')
    .description('stop the running ductor of this home (the service, or the process)')
    .action(async () => { await stopService(io, (text) => { io.stdout.write(text) }) })
}

export function restartCommand (io: CliIo): Command {
  return new Command('restart')
    .description('restart the running ductor of this home (start it when it is not running)')
    .action(async () => {
      const t = await target(io.env)
      if (t.managed && t.manager !== null) {
        await t.manager.restart()
        io.stdout.write(`Restarted the ${t.manager.kind} service.\n`)
        return
      }
      const info = await readServiceInfo(t.paths.state)
      const holder = await runningHolder(t.paths)
      // A supervisor that died (killed alone) leaves its service re-parented: signalled, it would stop for good.
      const supervisorAlive = info?.supervisor_pid === undefined || parentPid(holder?.pid ?? 0) === info.supervisor_pid
      if (holder !== null && info?.supervised === true && info.pid === holder.pid && supervisorAlive) {
        // Under `ductor serve`'s supervisor: the service exits with 42 and the supervisor starts it again.
        process.kill(holder.pid, 'SIGUSR2')
        io.stdout.write(`${await waitForStart(t.paths, info.started_at, info.supervisor_pid)}.\n`)
        return
      }
      // Between a crash and the next start: the supervisor is asked to start the service now (SIGUSR2 ends its backoff).
      const supervisor = holder === null ? await readLiveSupervisor(t.paths.state) : null
      if (supervisor !== null) {
        process.kill(supervisor, 'SIGUSR2')
        io.stdout.write(`${await waitForStart(t.paths, info?.started_at ?? null, supervisor)}.\n`)
        return
      }
      if (holder !== null && !await stopProcess(holder)) throw new Error(`ductor (pid ${holder.pid}) did not stop within ${STOP_WAIT_MS / 1000} s`)
      io.stdout.write(`${await startDetached(io, t.paths, info?.started_at ?? null)}; it runs in the background (ductor stop ends it; what a terminal would show goes to logs/${SERVE_LOG}).\n`)
    })
}

export function uninstallCommand (io: CliIo): Command {
  return new Command('uninstall')
    .description('stop ductor and remove its background service; --purge also deletes the home')
    .option('--purge', 'also delete the home folder (config, sessions, jobs, memory): asks for --yes')
    .option('--yes', 'confirm --purge')
    .action(async (opts: { purge?: boolean, yes?: boolean }) => {
      const out = (text: string): void => { io.stdout.write(text) }
      if (opts.purge === true && opts.yes !== true) throw new Error('--purge deletes the whole home (config, sessions, cron jobs, memory); add --yes to confirm')
      const t = await target(io.env)
      if (t.manager !== null && await t.manager.uninstall().catch(() => false)) out(`Removed the ${t.manager.kind} service (${t.manager.definitionPath}).\n`)
      const holder = await runningHolder(t.paths)
      if (holder !== null) {
        if (!await stopProcess(holder)) throw new Error(`ductor (pid ${holder.pid}) did not stop within ${STOP_WAIT_MS / 1000} s; nothing was deleted`)
        out(`Stopped ductor (pid ${holder.pid}).\n`)
      }
      const supervisor = await readLiveSupervisor(t.paths.state)
      if (supervisor !== null && !await stopSupervisor(supervisor)) throw new Error(`ductor's supervisor (pid ${supervisor}) did not stop within ${STOP_WAIT_MS / 1000} s; nothing was deleted`)
      await removeSandbox(io.env, t.paths, true, out)
      // With a followed ductor_home (ADR 0028) the home is two folders: the data and the config's.
      const homes = [...new Set([t.paths.home, configHomeOf(t.paths)])]
      if (opts.purge === true) {
        for (const home of homes) {
          await rm(home, { recursive: true, force: true })
          out(`Deleted ${home}.\n`)
        }
      } else {
        out(`Your home stays in ${homes.join(' and ')} (ductor uninstall --purge --yes deletes it).\n`)
      }
      out('Remove the program itself with: npm uninstall --global ductor (or delete the git checkout).\n')
    })
}

/** The folder holding `config/config.json` (the home, or the config's home when ductor_home is followed). */
function configHomeOf (paths: HomePaths): string {
  return dirname(dirname(paths.config))
}

/**
 * Removes this home's Docker sandbox container (and, with `image`, the image ductor built), as the
 * Python version does on uninstall and reset. Says what it did; a Docker that does not answer is
 * reported, never a reason to stop the command.
 */
async function removeSandbox (env: NodeJS.ProcessEnv, paths: HomePaths, image: boolean, out: (text: string) => void): Promise<void> {
  const reading = await readConfigReadOnly(configHomeOf(paths), env)
  if (reading.status !== 'ok' || !reading.config.docker.enabled) return
  const sandbox = createDockerSandbox({
    docker: () => reading.config.docker,
    home: paths.home,
    userHome: env['HOME'] ?? '',
    run: createCommandRunner({ env })
  })
  try {
    const removed = await sandbox.remove({ image })
    out(removed.length === 0 ? 'No Docker sandbox of this home to remove.\n' : `Removed the Docker sandbox: ${removed.join(', ')}.\n`)
  } catch (err) {
    out(`Could not remove the Docker sandbox (${err instanceof Error ? err.message : String(err)}); remove it later with: docker rm -f ${reading.config.docker.container_name}\n`)
  }
}

/**
 * `ductor reset` / `ductor onboarding` (the Python version's names): stops ductor, moves the config
 * aside (`config/config.json.bak-<time>`; sessions, jobs, hooks and memory stay), then runs the setup
 * of `ductor init` with the same answers and flags.
 */
/**
 * init's options as `reset` got them, checked before anything is stopped or moved: a typo must not
 * leave the home without its config (init would refuse it only after the config had been moved aside).
 */
function checkInitOptions (io: CliIo, args: string[]): void {
  const init = initCommand(io).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  let unknown: string[]
  try {
    const parsed = init.parseOptions(args)
    unknown = [...parsed.operands, ...parsed.unknown]
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/^error: /, '').replace(/\.$/, '')}; nothing was changed (see ductor reset --help)`)
  }
  const [first] = unknown
  if (first !== undefined) {
    throw new Error(`${first.startsWith('-') ? `unknown option '${first}'` : `unexpected argument '${first}'`} for ductor reset, which takes the options of ductor init; nothing was changed (see ductor reset --help)`)
  }
}

export function resetCommand (io: CliIo): Command {
  return new Command('reset')
    .alias('onboarding')
    .description('start the setup again: the config is moved aside (sessions, jobs, memory stay), then ductor init runs')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[init options...]', 'passed to ductor init (e.g. --non-interactive --token … --user-id …)')
    .action(async (args: string[], _opts: unknown, reset: Command) => {
      // Everything in args is init's, so --help is looked for here: it shows help and changes nothing.
      if (args.includes('-h') || args.includes('--help')) {
        io.stdout.write(reset.helpInformation() + '\nThe options are those of ductor init:\n' + initCommand(io).helpInformation().replace(/^[\s\S]*?\nOptions:\n/, ''))
        return
      }
      checkInitOptions(io, args)
      const out = (text: string): void => { io.stdout.write(text) }
      await stopService(io, out)
      const paths = resolvePaths(io.env)
      // A fresh start: the container goes (the image stays; the next container is made from it).
      await removeSandbox(io.env, paths, false, out)
      const backup = `${paths.config}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`
      await rename(paths.config, backup).then(() => { out(`Moved the config to ${backup}.\n`) }, (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
      await initCommand(io).exitOverride().parseAsync(args, { from: 'user' })
    })
}

/**
 * Runs one CLI process: spawn (stdin ignored, own process group), stream stdout through the
 * provider's parser, keep a bounded stderr tail, stop on abort or timeout (SIGTERM to the group,
 * SIGKILL after the grace period), reap, and describe the outcome. `done` never rejects.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { setPriority } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Clock } from '../clock.ts'
import { systemClock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import { createClaudeStreamParser } from './claude-stream.ts'
import { createCodexStreamParser } from './codex-stream.ts'
import type { CliEvent, CliResult, ProviderName } from './events.ts'
import { classifyExit, type RunOutcomeKind, type RunStatus, type StopReason } from './outcome.ts'
import { groupHasLiveMembers, signalGroup } from './process-group.ts'
import type { ProcessRegistry } from './process-registry.ts'
import type { StreamParser, StreamParserOptions } from './stream-parser.ts'
import { createTail } from './tail-buffer.ts'
import { signalInside, type InsideRun } from '../sandbox/inside.ts'
import type { Readable } from 'node:stream'
import { SpawnFailed, type ExitFacts, type Spawner } from './spawner.ts'
import { ClaimRefused, type WorkClaim } from '../claims.ts'

/** The durable list of CLI process groups, so a later life can end the ones this one leaves. */
export interface CliGroups {
  /**
   * Records the group led by `pid` (and, for a run in the sandbox, its group inside the container);
   * resolves once the record is on disk (synced).
   */
  add: (pid: number, inside?: InsideRun) => Promise<void>
  /** The group is gone (reaped by the runner). */
  remove: (pid: number) => void
  close: () => Promise<void>
}

export interface RunSpec {
  runId: string
  chatId: string
  provider: ProviderName
  /** argv[0] is the binary (see resolveCliBinary, buildClaudeArgv/buildCodexArgv, Sandbox.wrap). */
  argv: readonly string[]
  cwd: string
  /** The complete environment of the child (see buildCliEnv); process.env is not added. */
  env: Readonly<Record<string, string>>
  /** `cli_timeout` in ms; 0 or Infinity for none. */
  timeoutMs: number
  /** Receives every normalized event as it is parsed. An exception here is logged, not fatal. */
  onEvent?: (event: CliEvent) => void
  /**
   * The run executes inside the sandbox container (argv is its `docker exec`): a stop signals the
   * CLI's process group there, which the host's docker client does not pass on (src/sandbox/inside.ts).
   */
  inside?: InsideRun
  /**
   * What the run is made for. The CLI is spawned behind a gate; once its process group is recorded,
   * `claim.started(record)` writes the work's start, and only then does the CLI exec. When either
   * cannot be written (or the service is stopping) the CLI never runs and `done` rejects with the
   * claim's `ClaimRefused`.
   */
  claim?: WorkClaim
}

export interface RunOutcome {
  status: RunStatus
  kind: RunOutcomeKind
  /**
   * The CLI's result, or one pieced together from what it printed before it stopped
   * (`complete: false`); null when it printed nothing usable.
   */
  result: CliResult | null
  /** A sentence for the user when the run failed. */
  userMessage?: string
  /** The session to resume no longer exists: start a fresh one. */
  sessionNotFound?: true
  exitCode: number | null
  signal: string | null
  /** The end of stderr (at most `stderrTailBytes`). */
  stderrTail: string
  durationMs: number
}

export interface RunHandle {
  runId: string
  /** Undefined when the process could not be spawned. */
  pid: number | undefined
  done: Promise<RunOutcome>
  /** Stops the run (default reason `user`) and resolves once it is reaped. */
  abort: (reason?: StopReason) => Promise<RunOutcome>
}

export interface Runner {
  run: (spec: RunSpec) => RunHandle
  /**
   * Resolves once execa is loaded (its import starts when the runner is made). The service waits for
   * it before replaying its inbox, so a replayed message's done mark is never followed by an import
   * before its spawn (ADR 9: nothing is awaited between the two).
   */
  ready: () => Promise<void>
}

export interface RunnerOptions {
  logger: Logger
  registry: ProcessRegistry
  /** Time between SIGTERM and SIGKILL; default 3000 ms. */
  graceMs?: number
  clock?: Clock
  /** stderr kept for error messages; default 64 KiB. */
  stderrTailBytes?: number
  /** How long to wait for stdout to close after the group is gone; default 2000 ms. */
  drainMs?: number
  /**
   * The durable list of CLI process groups (src/store/cli-groups.ts implements it). With it, each CLI starts
   * behind a gate: a `sh` that waits for one line on its stdin, then execs the CLI (same pid, same
   * group). The group is recorded, and synced, then the run's claim (RunSpec.claim), before the
   * line is written; a service killed in between closes the pipe and the gate exits without starting
   * the CLI. So no CLI ever runs unrecorded, and the next start can end every one the killed
   * service left.
   */
  groups?: CliGroups
  /**
   * Spawn through the CLI spawner process (src/providers/spawner.ts, ADR 0032) instead of in this
   * process, so the fork/exec wait does not block the event loop. Every CLI then starts behind the
   * gate, with or without `groups`.
   */
  spawner?: Spawner
}

/** A started process as the runner follows it, whoever spawned it. */
interface Proc {
  pid: number
  stdout: Readable
  stderr: Readable
  exit: Promise<ExitFacts>
  /** Resolves once stdout and stderr are closed. */
  closed: Promise<void>
  /** Behind the gate: start the CLI, or never start it. */
  gate?: { go: () => void, cancel: () => void }
}

/** The start gate: one line on stdin, then the CLI (its stdin /dev/null), or exit when stdin closes first. */
const GATE = 'IFS= read -r go || exit 97; [ "$go" = go ] || exit 97; exec "$@" </dev/null'

const PARSERS: Record<ProviderName, (options: StreamParserOptions) => StreamParser> = {
  claude: createClaudeStreamParser,
  codex: createCodexStreamParser
}
const POLL_MS = 25
const MALFORMED_LOGGED = 5
const KILL_WAIT_MS = 1000
const MAX_TIMER_MS = 2 ** 31 - 1 // longer delays overflow and fire at once
const CLI_NICE = 10
/** A `docker exec … kill` that takes longer than this has failed (the daemon hangs). */
const INSIDE_SIGNAL_MS = 5000

type Execa = typeof import('execa')['execa']
let loadedExeca: Execa | undefined
let loadingExeca: Promise<Execa> | undefined

/** execa is imported on the first run, not at start (~130 ms and ~15 MB an idle service does not need; P4). */
function loadExeca (): Promise<Execa> {
  loadingExeca ??= import('execa').then((m) => {
    loadedExeca = m.execa
    return m.execa
  })
  return loadingExeca
}

export function createRunner (options: RunnerOptions): Runner {
  const { registry } = options
  const graceMs = options.graceMs ?? 3000
  const clock = options.clock ?? systemClock
  const tailBytes = options.stderrTailBytes ?? 64 * 1024
  const drainMs = options.drainMs ?? 2000
  const groups = options.groups
  const spawner = options.spawner
  // Through the spawner, execa is not needed: it hands over plain pipes.
  const loading = spawner === undefined ? loadExeca() : Promise.resolve(undefined)
  loading.catch((err: unknown) => { options.logger.error({ err }, 'could not load execa; CLI runs will fail') })

  /** Before the first run has loaded execa, the handle waits for it; from then on `run` spawns at once. */
  function run (spec: RunSpec): RunHandle {
    if (spawner !== undefined) return runWith(spec, spawnThrough(spawner))
    if (loadedExeca !== undefined) return runWith(spec, spawnHere(loadedExeca))
    const started = loadExeca().then((execa) => runWith(spec, spawnHere(execa)))
    let pid: number | undefined
    started.then((h) => { pid = h.pid }, () => {})
    return {
      runId: spec.runId,
      get pid () { return pid },
      done: started.then((h) => h.done),
      abort: async (reason) => await (await started).abort(reason)
    }
  }

  type Start = (spec: RunSpec, gated: boolean) => Proc | Promise<Proc>

  /** In this process, with execa: `spawn()` blocks this event loop until the child has exec'd. */
  function spawnHere (execa: Execa): Start {
    return (spec, gated) => {
      const binary = spec.argv[0] ?? ''
      const child = execa(gated ? '/bin/sh' : binary, gated ? ['-c', GATE, 'ductor-cli', ...spec.argv] : spec.argv.slice(1), {
        cwd: spec.cwd,
        env: spec.env,
        extendEnv: false,
        // Codex waits for EOF on an open stdin; Claude loses 3 s (NOTES §2, §3): the CLI's stdin is
        // /dev/null either way (the gate's pipe is only the gate's).
        stdin: gated ? 'pipe' : 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: false,
        detached: true, // its own process group, so the whole tree can be signalled
        cleanup: false,
        reject: false
      })
      const pid = child.pid
      if (pid === undefined) {
        return (async () => {
          const failure = await child
          throw new SpawnFailed(failure.code ?? 'ENOENT')
        })()
      }
      // The CLI and whatever it starts run at a lower CPU priority than the service (ADR 12).
      try { setPriority(pid, CLI_NICE) } catch {}
      child.stdin?.on('error', () => {})
      return {
        pid,
        stdout: child.stdout,
        stderr: child.stderr,
        exit: new Promise((resolve) => { child.once('exit', (exitCode, signal) => { resolve({ exitCode, signal }) }) }),
        closed: child.then(() => {}),
        ...(gated ? { gate: { go: () => { child.stdin?.end('go\n') }, cancel: () => { child.stdin?.destroy() } } } : {})
      }
    }
  }

  /** Through the spawner process (ADR 0032): the wait for the exec is the spawner's, not this loop's. */
  function spawnThrough (sp: Spawner): Start {
    return async (spec) => {
      const child = await sp.spawn({ file: '/bin/sh', args: ['-c', GATE, 'ductor-cli', ...spec.argv], cwd: spec.cwd, env: spec.env, nice: CLI_NICE })
      const closed = (stream: Readable): Promise<void> => new Promise((resolve) => {
        if (stream.destroyed) resolve()
        else stream.once('close', () => { resolve() })
      })
      child.stdout.on('error', () => {})
      child.stderr.on('error', () => {})
      return {
        pid: child.pid,
        stdout: child.stdout,
        stderr: child.stderr,
        exit: child.exit,
        closed: Promise.all([closed(child.stdout), closed(child.stderr)]).then(() => {}),
        gate: { go: child.go, cancel: child.cancel }
      }
    }
  }

  function runWith (spec: RunSpec, start: Start): RunHandle {
    const log = options.logger.child({ runId: spec.runId, chatId: spec.chatId, provider: spec.provider })
    const startedAt = clock.now()
    const stderr = createTail(tailBytes)
    let malformed = 0
    const parser = PARSERS[spec.provider]({
      now: clock.now,
      onEvent (event) {
        try {
          spec.onEvent?.(event)
        } catch (err) {
          log.error({ err, eventType: event.type }, 'event consumer failed')
        }
      },
      onMalformed (info) {
        if (++malformed <= MALFORMED_LOGGED) log.warn({ excerpt: info.excerpt, reason: info.reason }, 'skipped a malformed line from the CLI')
      }
    })
    const binary = spec.argv[0] ?? ''
    const inside = spec.inside
    let stopReason: StopReason | null = null

    function finish (facts: { spawnError?: string, spawnerLost?: boolean, exitCode: number | null, signal: string | null }): RunOutcome {
      const durationMs = clock.now() - startedAt
      let result: CliResult | null = parser.end()
      if (!result.complete && !parser.sawOutput()) result = null
      const stderrTail = stderr.text()
      const verdict = classifyExit({ provider: spec.provider, binary, timeoutMs: spec.timeoutMs, stopReason, durationMs, result, stderrTail, ...facts })
      if (result !== null && !result.complete && verdict.userMessage !== undefined) result.errorMessage = verdict.userMessage
      if (malformed > MALFORMED_LOGGED) log.warn({ count: malformed }, 'malformed lines from the CLI skipped in total')
      log.info({ status: verdict.status, exitCode: facts.exitCode, signal: facts.signal, durationMs }, 'CLI run ended')
      return { ...verdict, result, exitCode: facts.exitCode, signal: facts.signal, stderrTail, durationMs }
    }

    const claim = spec.claim
    /** Why the CLI was not let go: its claim refused (stopping, or a record not written). */
    let refusal: ClaimRefused | undefined
    /** The caller's view of the outcome: a refused claim is the caller's to handle (src/claims.ts). */
    const settle = async (outcome: Promise<RunOutcome>): Promise<RunOutcome> => {
      const value = await outcome
      if (refusal !== undefined) throw refusal
      return value
    }
    /** A run that fails before its CLI could start still counts as the claimed attempt (as any failed run does). */
    async function failed (spawnError: string): Promise<RunOutcome> {
      await claim?.started().catch((err: unknown) => {
        if (!(err instanceof ClaimRefused)) throw err
        refusal = err
      })
      return finish({ spawnError, exitCode: null, signal: null })
    }
    if (!isDirectory(spec.cwd)) {
      const done = failed('ENOCWD')
      return { runId: spec.runId, pid: undefined, done: settle(done), abort: async () => await done }
    }
    // Behind the gate the CLI execs only once what must be recorded first (its group, its claim) is on disk.
    const gated = groups !== undefined || spawner !== undefined || claim !== undefined
    if (gated && !isExecutable(binary, spec.env['PATH'])) {
      // Behind the gate a missing binary would be the shell's exit 127; say ENOENT as a direct spawn does.
      const done = failed('ENOENT')
      return { runId: spec.runId, pid: undefined, done: settle(done), abort: async () => await done }
    }

    // In this process the child exists when `start` returns, and is registered before `run` returns;
    // through the spawner it exists a message later.
    let proc: Proc | undefined
    let starting: Promise<Proc> | undefined
    try {
      const started = start(spec, gated)
      if (started instanceof Promise) starting = started
      else proc = started
    } catch (err) {
      starting = Promise.reject(err)
    }
    let stop = async (reason: StopReason): Promise<RunOutcome> => {
      // Not started yet: the stop applies as soon as the process exists.
      stopReason ??= reason
      return await done
    }
    const following = proc !== undefined
      ? follow(proc)
      : (starting as Promise<Proc>).then(async (p) => {
          proc = p
          return await follow(p)
        }, (err: unknown) => {
          if (err instanceof SpawnFailed) return failed(err.code)
          throw err
        })
    const done = following.catch((err: unknown) => {
      log.error({ err }, 'CLI runner failed')
      return finish({ spawnError: 'internal', exitCode: null, signal: null })
    })

    async function follow (child: Proc): Promise<RunOutcome> {
      const pid = child.pid
      log.debug({ pid, binary, cwd: spec.cwd }, 'CLI started')
      const gate = child.gate
      if (gate !== undefined) {
        // The CLI's process group is recorded (synced), then the work's start, then the CLI may exec;
        // when either cannot be written the gate's shell exits 97 and the CLI never runs.
        const record = groups === undefined ? undefined : async (): Promise<void> => { await groups.add(pid, spec.inside) }
        const recorded = claim !== undefined ? claim.started(record) : record?.() ?? Promise.resolve()
        recorded.then(() => {
          if (stopReason === null) gate.go()
          else gate.cancel()
        }, (err: unknown) => {
          if (err instanceof ClaimRefused) refusal = err
          if (err instanceof ClaimRefused && err.reason === 'shutdown') log.info('ductor is stopping; not starting the CLI')
          else log.error({ err }, 'could not record the CLI\'s process group or the start of its work; not starting it')
          gate.cancel()
        })
      }
      child.stdout.on('data', (chunk: Buffer) => parser.write(chunk))
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))

      let exited = false
      const exit = child.exit.then((facts) => {
        exited = true
        return facts
      })

      let terminating: Promise<void> | undefined
      function terminateGroup (): Promise<void> {
        terminating ??= (async () => {
          if (inside !== undefined) {
            // The CLI inside gets the SIGTERM; the docker client on the host ends when it does.
            await signalInside(inside, 'TERM', INSIDE_SIGNAL_MS, spec.env).catch((err: unknown) => { log.warn({ err }, 'could not signal the CLI inside the container') })
          } else if (!signalGroup(pid, 'SIGTERM')) return
          const deadline = clock.now() + graceMs
          while (clock.now() < deadline) {
            await sleep(POLL_MS)
            if (exited && !groupHasLiveMembers(pid)) return
          }
          log.warn({ pid, graceMs }, 'processes of the CLI outlived SIGTERM; sending SIGKILL to its process group')
          if (inside !== undefined) await signalInside(inside, 'KILL', INSIDE_SIGNAL_MS, spec.env).catch((err: unknown) => { log.warn({ err }, 'could not kill the CLI inside the container') })
          signalGroup(pid, 'SIGKILL')
          const killDeadline = clock.now() + KILL_WAIT_MS
          while (groupHasLiveMembers(pid) && clock.now() < killDeadline) await sleep(POLL_MS)
        })()
        return terminating
      }

      stop = async (reason) => {
        if (!exited) {
          stopReason ??= reason
          log.info({ reason }, 'stopping CLI run')
          terminateGroup().catch((err: unknown) => log.error({ err }, 'could not signal the CLI process group'))
        }
        return await done
      }
      const unregister = registry.register({
        runId: spec.runId,
        chatId: spec.chatId,
        provider: spec.provider,
        pid,
        startedAt,
        stop: async (reason) => { await stop(reason) }
      })
      // Asked to stop while it was being spawned.
      if (stopReason !== null) {
        const reason = stopReason
        stopReason = null
        stop(reason).catch(() => {})
      }
      const timer = spec.timeoutMs > 0 && Number.isFinite(spec.timeoutMs)
        ? setTimeout(() => { stop('timeout').catch(() => {}) }, Math.min(spec.timeoutMs, MAX_TIMER_MS))
        : undefined

      try {
        const facts = await exit
        clearTimeout(timer)
        if (facts.lost === true) {
          // The spawner died: its group was sent SIGKILL (src/providers/spawner.ts). A signal is delivered
          // asynchronously: the run ends once nothing of the group is left, as after a stop.
          const killDeadline = clock.now() + KILL_WAIT_MS
          while (groupHasLiveMembers(pid) && clock.now() < killDeadline) {
            signalGroup(pid, 'SIGKILL')
            await sleep(POLL_MS)
          }
          if (inside !== undefined) await signalInside(inside, 'KILL', INSIDE_SIGNAL_MS, spec.env).catch((err: unknown) => { log.warn({ err }, 'could not kill what is left of the run inside the container') })
        } else {
          // Stopping, or children left behind by the CLI: no orphans either way.
          if (terminating !== undefined || groupHasLiveMembers(pid)) await terminateGroup()
          // A stopped run in the container: whatever of its group is still there goes too (no orphans inside).
          if (terminating !== undefined && inside !== undefined) await signalInside(inside, 'KILL', INSIDE_SIGNAL_MS, spec.env).catch((err: unknown) => { log.warn({ err }, 'could not kill what is left of the run inside the container') })
        }
        const drained = await Promise.race([child.closed.then(() => true), sleep(drainMs, false, { ref: false })])
        if (!drained) {
          log.warn({ pid }, 'CLI output still open after exit; closing it')
          child.stdout.destroy()
          child.stderr.destroy()
        }
        return finish({ exitCode: facts.exitCode, signal: facts.signal, ...(facts.lost === true ? { spawnerLost: true } : {}) })
      } finally {
        clearTimeout(timer)
        unregister()
        groups?.remove(pid)
      }
    }

    return {
      runId: spec.runId,
      get pid () { return proc?.pid },
      done: settle(done),
      abort: async (reason = 'user') => await stop(reason)
    }
  }

  return { run, ready: async () => { await loading.catch(() => {}) } }
}

/** Whether `binary` (a path, or a name looked up on `pathEnv`) is an executable file. */
function isExecutable (binary: string, pathEnv: string | undefined): boolean {
  const candidates = binary.includes('/') ? [binary] : (pathEnv ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, binary))
  return candidates.some((file) => {
    try {
      accessSync(file, fsConstants.X_OK)
      return statSync(file).isFile()
    } catch {
      return false
    }
  })
}

function isDirectory (path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * The service's side of the CLI spawner (`bin/ductor-spawner.mjs`, ADR 0032). `spawn()` in Node
 * blocks the calling event loop until the child has exec'd, and on a busy machine that waits for a
 * core: with many CLIs starting at once the service stalled for tens of milliseconds per spawn. The
 * spawner is a small Node process, started on the first run, that does the fork/exec instead and
 * hands back the pid and the read ends of the child's stdout and stderr pipes (Node's documented
 * handle passing over IPC), so the service reads the CLI's output as it did before and only the
 * wait moves out of its loop.
 *
 * What this side keeps: the CLI's process group is signalled by the service directly (same user;
 * stop, timeout and the SIGKILL escalation stay in the runner). When the spawner dies, every CLI it
 * started is killed here (SIGKILL to its group) and its run ends as lost; the next spawn starts a new
 * spawner. When the service dies, the spawner sees its IPC channel or its stdin close and kills them itself. The
 * spawner's own pid is in the durable CLI-group list, so a later start ends it if both die at once.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { Logger } from '../logger-types.ts'
import { signalGroup } from './process-group.ts'

export interface SpawnRequest {
  file: string
  args: readonly string[]
  cwd: string
  /** The child's whole environment (nothing of the spawner's is added). */
  env: Readonly<Record<string, string>>
  /** The child's nice value (set by the spawner right after the spawn). */
  nice?: number
}

export interface ExitFacts {
  exitCode: number | null
  signal: string | null
  /** The spawner died before the child's exit was known: its group has been killed (SIGKILL). */
  lost?: true
}

export interface SpawnedProcess {
  pid: number
  stdout: Readable
  stderr: Readable
  exit: Promise<ExitFacts>
  /** Lets the start gate go (one line `go` on the child's stdin, then stdin closes). */
  go: () => void
  /** Closes the child's stdin without `go`: the gate exits (97) without starting the CLI. */
  cancel: () => void
}

/** The spawn failed (`code`: the errno name, or `ESPAWNER` when the spawner ended first). */
export class SpawnFailed extends Error {
  readonly code: string
  constructor (code: string) {
    super(`could not spawn (${code})`)
    this.code = code
  }
}

export interface SpawnerOptions {
  /** The spawner script (bin/ductor-spawner.mjs). */
  script: string
  logger: Logger
  /** A spawner with no child for this long is let go (its ~40 MB are not held while idle); default 5 min. */
  idleMs?: number
  /**
   * The spawner's own environment (default empty: it holds nothing of the service's, whose
   * environment has secrets). Only names that identify it, e.g. `DUCTOR_HOME`.
   */
  env?: Readonly<Record<string, string>>
  /** Told of each spawner process as it starts and after it ended (the durable CLI-group list). */
  onStart?: (pid: number) => void
  onEnd?: (pid: number) => void
}

export interface Spawner {
  spawn: (request: SpawnRequest) => Promise<SpawnedProcess>
  /** The running spawner's pid, if one runs. */
  pid: () => number | undefined
  /** Ends the spawner (it kills whatever it still runs) and resolves once it has exited. */
  close: () => Promise<void>
}

interface Entry {
  pid?: number
  stdout?: Readable
  stderr?: Readable
  resolveSpawn: (proc: SpawnedProcess) => void
  rejectSpawn: (err: Error) => void
  resolveExit?: (facts: ExitFacts) => void
  spawned: boolean
}

interface Instance {
  child: ChildProcess
  entries: Map<number, Entry>
  exited: Promise<void>
  idleTimer?: NodeJS.Timeout
}

const CLOSE_WAIT_MS = 2000

function emptyStream (): Readable {
  return Readable.from([])
}

export function createSpawner (options: SpawnerOptions): Spawner {
  const idleMs = options.idleMs ?? 5 * 60_000
  const log = options.logger
  let current: Instance | undefined
  let nextId = 1

  function start (): Instance {
    const child = spawn(process.execPath, [options.script], {
      // The spawner needs nothing of the service's environment (it holds secrets); each request
      // carries its child's.
      env: { ...options.env },
      // stdin: a pipe this process never writes to; it closes when this process ends, however it ends.
      stdio: ['pipe', 'ignore', 'inherit', 'ipc'],
      // Its own session: a Ctrl-C in the terminal goes to the service, which stops the runs in order.
      detached: true
    })
    const instance: Instance = {
      child,
      entries: new Map(),
      exited: new Promise((resolve) => {
        child.once('exit', () => { resolve() })
        if (child.pid === undefined) child.once('error', () => { resolve() })
      })
    }
    child.stdin?.on('error', () => {})
    const pid = child.pid
    if (pid !== undefined) options.onStart?.(pid)
    let ended = false
    const end = (code: number | null, signal: string | null): void => {
      if (ended) return
      ended = true
      if (current === instance) current = undefined
      clearTimeout(instance.idleTimer)
      if (pid !== undefined) options.onEnd?.(pid)
      if (instance.entries.size > 0) {
        log.error({ code, signal, runs: instance.entries.size }, 'the CLI spawner ended unexpectedly; stopping the CLIs it started')
      }
      for (const [id, entry] of instance.entries) lose(instance, id, entry)
    }
    child.on('error', (err) => {
      log.error({ err }, 'the CLI spawner failed')
      if (pid === undefined) end(null, null)
    })
    child.on('message', (message: unknown, handle: unknown) => { onMessage(instance, message, handle) })
    child.once('exit', end)
    return instance
  }

  /** The spawner is gone: the child's group is killed and its run ends as lost, or the spawn fails. */
  function lose (instance: Instance, id: number, entry: Entry): void {
    instance.entries.delete(id)
    if (entry.pid !== undefined) {
      try { signalGroup(entry.pid, 'SIGKILL') } catch {}
    }
    if (entry.spawned) entry.resolveExit?.({ exitCode: null, signal: null, lost: true })
    else entry.rejectSpawn(new SpawnFailed('ESPAWNER'))
  }

  function onMessage (instance: Instance, message: unknown, handle: unknown): void {
    const m = message as { t?: string, id?: number, pid?: number, code?: unknown, signal?: unknown }
    const entry = typeof m.id === 'number' ? instance.entries.get(m.id) : undefined
    if (entry === undefined || typeof m.id !== 'number') {
      // A handle for nothing (the run is gone): close it, or its pipe stays open here.
      if (handle !== undefined) (handle as Socket).destroy()
      return
    }
    const id = m.id
    switch (m.t) {
      case 'spawned':
        entry.pid = m.pid
        break
      case 'stdout':
        entry.stdout = handle === undefined ? emptyStream() : handle as Socket
        break
      case 'stderr':
        entry.stderr = handle === undefined ? emptyStream() : handle as Socket
        settleSpawn(instance, id, entry)
        break
      case 'error':
        instance.entries.delete(id)
        entry.rejectSpawn(new SpawnFailed(typeof m.code === 'string' ? m.code : 'spawn'))
        idleCheck(instance)
        break
      case 'exit':
        instance.entries.delete(id)
        if (entry.spawned) entry.resolveExit?.({ exitCode: typeof m.code === 'number' ? m.code : null, signal: typeof m.signal === 'string' ? m.signal : null })
        else {
          entry.stdout?.destroy()
          entry.stderr?.destroy()
          entry.rejectSpawn(new SpawnFailed('EEXITED'))
        }
        idleCheck(instance)
        break
    }
  }

  function settleSpawn (instance: Instance, id: number, entry: Entry): void {
    const pid = entry.pid
    if (pid === undefined || entry.stdout === undefined || entry.stderr === undefined) return
    entry.spawned = true
    const exit = new Promise<ExitFacts>((resolve) => { entry.resolveExit = resolve })
    const send = (t: 'go' | 'cancel'): void => {
      if (instance.child.connected) instance.child.send({ t, id }, (err) => { if (err !== null && err !== undefined) log.warn({ err }, 'could not reach the CLI spawner') })
    }
    entry.resolveSpawn({ pid, stdout: entry.stdout, stderr: entry.stderr, exit, go: () => { send('go') }, cancel: () => { send('cancel') } })
  }

  /** No child left: let the spawner go after `idleMs` (a new one starts with the next spawn). */
  function idleCheck (instance: Instance): void {
    if (instance.entries.size > 0 || current !== instance) return
    clearTimeout(instance.idleTimer)
    instance.idleTimer = setTimeout(() => {
      if (instance.entries.size > 0 || current !== instance) return
      current = undefined
      if (instance.child.connected) instance.child.disconnect()
    }, idleMs)
    instance.idleTimer.unref()
  }

  return {
    async spawn (request) {
      current ??= start()
      const instance = current
      clearTimeout(instance.idleTimer)
      const id = nextId++
      return await new Promise<SpawnedProcess>((resolve, reject) => {
        const entry: Entry = { resolveSpawn: resolve, rejectSpawn: reject, spawned: false }
        instance.entries.set(id, entry)
        if (!instance.child.connected) {
          lose(instance, id, entry)
          return
        }
        instance.child.send({ t: 'spawn', id, file: request.file, args: request.args, cwd: request.cwd, env: request.env, nice: request.nice }, (err) => {
          if (err !== null && err !== undefined && instance.entries.get(id) === entry) lose(instance, id, entry)
        })
      })
    },
    pid: () => current?.child.pid,
    async close () {
      const instance = current
      current = undefined
      if (instance === undefined) return
      clearTimeout(instance.idleTimer)
      if (instance.child.exitCode !== null || instance.child.signalCode !== null) return
      if (instance.child.connected) instance.child.disconnect()
      const timer = setTimeout(() => { instance.child.kill('SIGKILL') }, CLOSE_WAIT_MS)
      await instance.exited
      clearTimeout(timer)
    }
  }
}

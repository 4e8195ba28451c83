/**
 * Every live CLI process, by run and by chat (SPEC §7.1 "Process control"). The runner
 * registers each child; the orchestrator aborts a chat's run, the heartbeat sweeps stale
 * processes, shutdown kills them all. Every method resolves once the processes are dead.
 */
import type { Clock } from '../clock.ts'
import { systemClock } from '../clock.ts'
import type { ProviderName } from './events.ts'
import type { StopReason } from './outcome.ts'

export interface ProcessInfo {
  runId: string
  chatId: string
  provider: ProviderName
  pid: number
  /** Epoch milliseconds. */
  startedAt: number
}

export interface RegisteredProcess extends ProcessInfo {
  /** Stops the process group (SIGTERM, then SIGKILL after the grace period) and reaps it. */
  stop: (reason: StopReason) => Promise<void>
}

export interface ProcessRegistry {
  /** Adds a live process; call the returned function once it has exited. */
  register: (entry: RegisteredProcess) => () => void
  list: () => ProcessInfo[]
  /**
   * Stops one run; false when it has no process. With `beforeStart`, a pending run that has no
   * process yet (recorded, waiting for a slot or being spawned) is stopped the moment its process
   * registers, and the answer is true; a run id that is neither live nor pending gives false.
   */
  abortRun: (runId: string, reason?: StopReason, opts?: { beforeStart?: boolean }) => Promise<boolean>
  /** A run of this process has been recorded and is not over yet (whether or not its CLI runs). */
  markPending: (runId: string) => void
  /** The run is over (its end is recorded). */
  settled: (runId: string) => void
  /** Stops every run of a chat; resolves to how many were stopped. */
  abortChat: (chatId: string | number, reason?: StopReason) => Promise<number>
  /** Stops processes started more than `maxAgeMs` ago; resolves to how many. */
  sweepStale: (maxAgeMs: number) => Promise<number>
  /** Shutdown: stops and reaps every process; one registered after this is stopped at once. */
  killAll: () => Promise<number>
}

export interface ProcessRegistryOptions {
  clock?: Clock
}

export function createProcessRegistry (options: ProcessRegistryOptions = {}): ProcessRegistry {
  const clock = options.clock ?? systemClock
  const entries = new Map<string, RegisteredProcess>()
  /** Runs asked to stop before their process existed: run id → when asked, and why. */
  const early = new Map<string, { at: number, reason: StopReason }>()
  /** Runs recorded by this process and not over yet. */
  const pending = new Set<string>()
  const earlyTtlMs = 60 * 60 * 1000
  let closed = false

  async function stopAll (selected: RegisteredProcess[], reason: StopReason): Promise<number> {
    await Promise.all(selected.map(async (entry) => await entry.stop(reason)))
    return selected.length
  }

  return {
    register (entry) {
      entries.set(entry.runId, entry)
      if (closed) queueMicrotask(() => { entry.stop('shutdown').catch(() => {}) })
      const asked = early.get(entry.runId)
      if (asked !== undefined) {
        early.delete(entry.runId)
        queueMicrotask(() => { entry.stop(asked.reason).catch(() => {}) })
      }
      return () => {
        if (entries.get(entry.runId) === entry) entries.delete(entry.runId)
      }
    },
    list () {
      return [...entries.values()].map(({ runId, chatId, provider, pid, startedAt }) => ({ runId, chatId, provider, pid, startedAt }))
    },
    async abortRun (runId, reason = 'user', opts = {}) {
      const entry = entries.get(runId)
      if (entry === undefined) {
        if (opts.beforeStart !== true || !pending.has(runId)) return false
        const now = clock.now()
        for (const [id, { at }] of early) if (at < now - earlyTtlMs) early.delete(id)
        early.set(runId, { at: now, reason })
        return true
      }
      await entry.stop(reason)
      return true
    },
    markPending (runId) { pending.add(runId) },
    settled (runId) {
      pending.delete(runId)
      early.delete(runId)
    },
    async abortChat (chatId, reason = 'user') {
      const id = String(chatId)
      return await stopAll([...entries.values()].filter((e) => e.chatId === id), reason)
    },
    async sweepStale (maxAgeMs) {
      const limit = clock.now() - maxAgeMs
      return await stopAll([...entries.values()].filter((e) => e.startedAt < limit), 'stale')
    },
    async killAll () {
      closed = true
      return await stopAll([...entries.values()], 'shutdown')
    }
  }
}

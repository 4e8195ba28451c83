import { DuctorError, ErrorCodes } from '../errors.ts'

/**
 * Dependency lanes (SPEC §8.1): tasks that name the same `dependency` key run one at a time, in
 * arrival order, whether they come from cron or webhooks. Different keys, and tasks without a key,
 * run in parallel. A task that fails (throws or rejects) releases its key like one that succeeds.
 * The global run limit (`limits.max_concurrent_runs`) is not this module's business.
 */

export interface DependencyLaneState {
  key: string
  /** True while a task of this key runs. */
  running: boolean
  /** Tasks waiting behind it. */
  waiting: number
}

export interface DependencyQueue {
  /**
   * Runs `task` once its key is free and settles with its result. An `AbortSignal` that fires
   * while the task is still waiting removes it from the lane (rejects with `unavailable`).
   */
  run: <T>(key: string | null | undefined, task: () => Promise<T> | T, opts?: { signal?: AbortSignal }) => Promise<T>
  /** Queue depth per key (running + waiting), for /api/status. Keys with nothing queued are absent. */
  depths: () => Record<string, number>
  lanes: () => DependencyLaneState[]
}

interface Lane {
  waiting: Array<() => void>
}

export function createDependencyQueue (): DependencyQueue {
  // A key is busy exactly while it has a lane; the lane is deleted when its last task ends.
  const lanes = new Map<string, Lane>()

  function release (key: string): void {
    const lane = lanes.get(key)
    if (lane === undefined) return
    const next = lane.waiting.shift()
    if (next === undefined) lanes.delete(key)
    else next()
  }

  async function acquire (key: string, signal: AbortSignal | undefined): Promise<void> {
    const lane = lanes.get(key)
    if (lane === undefined) {
      lanes.set(key, { waiting: [] })
      return
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = lane.waiting.indexOf(start)
        if (i >= 0) lane.waiting.splice(i, 1)
        reject(new DuctorError(ErrorCodes.unavailable, `task waiting for dependency "${key}" was cancelled`, { cause: signal?.reason }))
      }
      const start = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      lane.waiting.push(start)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  return {
    async run (key, task, opts = {}) {
      const k = typeof key === 'string' ? key.trim() : ''
      if (opts.signal?.aborted === true) {
        throw new DuctorError(ErrorCodes.unavailable, 'task was cancelled before it started', { cause: opts.signal.reason })
      }
      if (k === '') return await task()
      await acquire(k, opts.signal)
      try {
        return await task()
      } finally {
        release(k)
      }
    },
    depths () {
      const out: Record<string, number> = {}
      for (const [key, lane] of lanes) out[key] = 1 + lane.waiting.length
      return out
    },
    lanes () {
      return [...lanes].map(([key, lane]) => ({ key, running: true, waiting: lane.waiting.length }))
    }
  }
}

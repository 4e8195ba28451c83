/**
 * Virtual time for tests of code that waits: `sleep(ms)` moves the clock forward by `ms` and
 * resolves on the next turn of the event loop, so a 2-second throttle or a 30-second `retry_after`
 * costs nothing, while real I/O (the fake server over HTTP) still runs in between. Share one clock
 * between the code under test and the fake server so rate limits see the same time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface VirtualClock {
  now: () => number
  sleep: (ms: number) => Promise<void>
  /** Moves time forward without waiting (e.g. to model a pause between two text deltas). */
  advance: (ms: number) => void
  /** Total virtual time slept through `sleep`. */
  slept: () => number
}

export function createVirtualClock (start = 1_700_000_000_000): VirtualClock {
  let t = start
  let total = 0
  return {
    now: () => t,
    async sleep (ms) {
      const d = Math.max(0, ms)
      t += d
      total += d
      await nextTurn()
    },
    advance (ms) { t += Math.max(0, ms) },
    slept: () => total
  }
}

/**
 * Virtual time for tests of code that waits. `sleep(ms)` moves the clock forward by `ms` and
 * resolves on the next turn of the event loop, so a 2-second throttle or a 30-second `retry_after`
 * costs nothing while real I/O (the fake server over HTTP) still runs in between. Timers set with
 * `setTimer` fire when virtual time passes them, by `sleep` or `advance`. Share one clock between
 * the code under test and the fake server so rate limits see the same time.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface VirtualClock {
  now: () => number
  sleep: (ms: number) => Promise<void>
  setTimer: (ms: number, fn: () => void) => () => void
  /** Moves time forward without waiting, firing due timers. */
  advance: (ms: number) => void
}

export function createVirtualClock (start = 1_700_000_000_000): VirtualClock {
  let t = start
  let timers: Array<{ at: number, fn: () => void }> = []

  function advance (ms: number): void {
    t += Math.max(0, ms)
    const due = timers.filter((x) => x.at <= t).sort((a, b) => a.at - b.at)
    timers = timers.filter((x) => x.at > t)
    for (const x of due) x.fn()
  }

  return {
    now: () => t,
    async sleep (ms) {
      advance(ms)
      await nextTurn()
    },
    setTimer (ms, fn) {
      const timer = { at: t + Math.max(0, ms), fn }
      timers.push(timer)
      return () => { timers = timers.filter((x) => x !== timer) }
    },
    advance
  }
}

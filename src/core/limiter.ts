/**
 * A FIFO counting semaphore: at most `max` holders at once (SPEC §5: `limits.max_concurrent_runs`,
 * shared by chats and automations). Waiting can be abandoned through an AbortSignal.
 */
export interface Limiter {
  /** Resolves with a release function once a slot is free; rejects with the signal's reason if aborted first. */
  acquire: (signal?: AbortSignal) => Promise<() => void>
  readonly active: number
  readonly waiting: number
  setMax: (max: number) => void
}

export function createLimiter (initialMax: number): Limiter {
  let max = initialMax
  let active = 0
  const waiters: Array<{ grant: () => void }> = []

  const pump = (): void => {
    while (active < max && waiters.length > 0) {
      active++
      waiters.shift()?.grant()
    }
  }
  const releaser = (): (() => void) => {
    let released = false
    return () => {
      if (released) return
      released = true
      active--
      pump()
    }
  }

  return {
    get active () { return active },
    get waiting () { return waiters.length },
    setMax (value) {
      max = value
      pump()
    },
    acquire (signal) {
      if (signal?.aborted === true) return Promise.reject(signal.reason)
      if (active < max && waiters.length === 0) {
        active++
        return Promise.resolve(releaser())
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve(releaser())
          }
        }
        const onAbort = (): void => {
          const i = waiters.indexOf(waiter)
          if (i !== -1) waiters.splice(i, 1)
          reject(signal?.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        waiters.push(waiter)
      })
    }
  }
}

/** Time as the core sees it; tests pass a fake one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now: () => number
}

export const systemClock: Clock = { now: () => Date.now() }

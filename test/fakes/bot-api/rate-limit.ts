/**
 * Per-chat limits shaped like Telegram's, as its Bot API FAQ documents them ("My bot is hitting
 * limits, how do I avoid this?"): in one chat "avoid sending more than one message per second. We
 * may allow short bursts that go over this limit, but eventually you'll begin receiving 429 errors",
 * and "your bot will not be able to send more than 20 messages per minute to the same group".
 * Modelled as a token bucket per chat (one a second, bursts of 3) and, for groups, at most 20 in any
 * 60 seconds. Edits count like messages. A refused call answers 429 with the seconds until it would
 * pass (at least 1, as Telegram's `retry_after` is a whole number of seconds).
 */

export interface Bucket {
  /** Requests allowed at once. */
  capacity: number
  /** Tokens added per second. */
  perSecond: number
  /** Also at most `count` requests in any `ms` (groups). */
  window?: { count: number, ms: number }
}

export interface RateLimits {
  /** Chats with a positive id (private chats). */
  private: Bucket
  /** Chats with a negative id (groups, supergroups, channels). */
  group: Bucket
  /** sendMessageDraft, per chat; null = unlimited. */
  drafts: Bucket | null
}

export const telegramLikeLimits: RateLimits = {
  private: { capacity: 3, perSecond: 1 },
  group: { capacity: 3, perSecond: 1, window: { count: 20, ms: 60_000 } },
  drafts: { capacity: 10, perSecond: 5 }
}

export interface RateLimiter {
  /** Takes a token; returns 0 when allowed, else the retry_after in seconds. */
  take: (key: string, bucket: Bucket) => number
  reset: () => void
}

export function createRateLimiter (now: () => number): RateLimiter {
  const state = new Map<string, { tokens: number, at: number, sent: number[] }>()
  return {
    take (key, bucket) {
      const t = now()
      const s = state.get(key) ?? { tokens: bucket.capacity, at: t, sent: [] }
      s.tokens = Math.min(bucket.capacity, s.tokens + ((t - s.at) / 1000) * bucket.perSecond)
      s.at = t
      state.set(key, s)
      const window = bucket.window
      if (window !== undefined) s.sent = s.sent.filter((at) => at > t - window.ms)
      let waitMs = s.tokens >= 1 ? 0 : ((1 - s.tokens) / bucket.perSecond) * 1000
      if (window !== undefined && s.sent.length >= window.count) {
        waitMs = Math.max(waitMs, (s.sent[s.sent.length - window.count] as number) + window.ms - t)
      }
      if (waitMs <= 0) {
        s.tokens -= 1
        if (window !== undefined) s.sent.push(t)
        return 0
      }
      return Math.max(1, Math.ceil(waitMs / 1000))
    },
    reset () { state.clear() }
  }
}

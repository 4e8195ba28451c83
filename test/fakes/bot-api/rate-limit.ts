/**
 * Per-chat token buckets shaped like Telegram's limits (which Telegram does not publish exactly):
 * about one message a second per chat with short bursts, about 20 a minute in groups. Edits count
 * like messages. Every bucket refills continuously; an empty bucket answers 429 with the seconds
 * until the next token (at least 1, as Telegram's `retry_after` is a whole number of seconds).
 */

export interface Bucket {
  /** Requests allowed at once. */
  capacity: number
  /** Tokens added per second. */
  perSecond: number
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
  group: { capacity: 20, perSecond: 20 / 60 },
  drafts: { capacity: 10, perSecond: 5 }
}

export interface RateLimiter {
  /** Takes a token; returns 0 when allowed, else the retry_after in seconds. */
  take: (key: string, bucket: Bucket) => number
  reset: () => void
}

export function createRateLimiter (now: () => number): RateLimiter {
  const state = new Map<string, { tokens: number, at: number }>()
  return {
    take (key, bucket) {
      const t = now()
      const s = state.get(key) ?? { tokens: bucket.capacity, at: t }
      s.tokens = Math.min(bucket.capacity, s.tokens + ((t - s.at) / 1000) * bucket.perSecond)
      s.at = t
      state.set(key, s)
      if (s.tokens >= 1) {
        s.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - s.tokens) / bucket.perSecond))
    },
    reset () { state.clear() }
  }
}

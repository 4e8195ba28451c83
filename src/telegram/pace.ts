import { setTimeout as sleepMs } from 'node:timers/promises'

/**
 * Per-chat pacing of what the bot sends, the way Telegram limits it (Bot API FAQ, "My bot is hitting
 * limits, how do I avoid this?"): in one chat "avoid sending more than one message per second", with
 * short bursts tolerated, and "not more than 20 messages per minute to the same group". Every
 * message-producing call to a chat (send*, edit*, copy/forward) takes a slot first; calls to one chat
 * take their slots in the order they asked, so a multi-part reply goes out complete and in order,
 * spaced instead of in a burst that Telegram answers with 429.
 *
 * The rules are a little stricter than the limits (a burst of 2 where Telegram tolerates a few, a
 * 61-second window for the group's 20) so a request delayed on its way cannot push the chat over.
 */

export interface PaceRule {
  /** Messages that may go at once. */
  burst: number
  /** Sustained messages per second. */
  perSecond: number
  /** At most `count` messages in any `ms` (groups). */
  window?: { count: number, ms: number }
}

export interface PaceRules {
  /** Chats with a positive id (private chats). */
  private: PaceRule
  /** Chats with a negative id (groups, supergroups, channels). */
  group: PaceRule
}

const telegramPace: PaceRules = {
  private: { burst: 2, perSecond: 1 },
  group: { burst: 2, perSecond: 1, window: { count: 20, ms: 61_000 } }
}

export interface ChatPacer {
  /**
   * Milliseconds until the chat may take a slot while leaving `reserve` of its window free (groups);
   * 0 = now. Senders that only preview (live edits) pass a reserve so the final reply is not held up.
   */
  delay: (chatId: number, reserve?: number) => number
  /**
   * Waits for the chat's earlier callers and for a free slot, then takes it. Rejects without taking
   * one when `signal` aborts first (what is no longer worth sending leaves the line).
   */
  acquire: (chatId: number, signal?: AbortSignal) => Promise<void>
  /**
   * Shutdown: every caller still waiting leaves the line (rejects), and later ones are refused. Without
   * it, sends queued behind a chat's pace kept sleeping after the adapter closed, one slot a second.
   */
  close: () => void
}

export interface ChatPacerOptions {
  now?: () => number
  /** Waits `ms`; ends early (resolving or rejecting) when `signal` aborts, so a closed pacer keeps no timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  rules?: PaceRules
}

interface ChatState {
  tokens: number
  at: number
  /** Times of the slots taken within the window (groups). */
  sent: number[]
  /** The last caller in line. */
  tail: Promise<void>
  waiting: number
}

/** Chats tracked before idle ones are forgotten. */
const sweepAbove = 1000

export function createChatPacer (options: ChatPacerOptions = {}): ChatPacer {
  const now = options.now ?? (() => Date.now())
  const sleep = options.sleep ?? (async (ms: number, signal: AbortSignal) => { await sleepMs(ms, undefined, { signal }) })
  const rules = options.rules ?? telegramPace
  const chats = new Map<number, ChatState>()
  const closing = new AbortController()

  const ruleOf = (chatId: number): PaceRule => chatId > 0 ? rules.private : rules.group

  function stateOf (chatId: number): ChatState {
    let s = chats.get(chatId)
    if (s === undefined) {
      if (chats.size >= sweepAbove) sweep()
      s = { tokens: ruleOf(chatId).burst, at: now(), sent: [], tail: Promise.resolve(), waiting: 0 }
      chats.set(chatId, s)
    }
    return s
  }

  function refill (s: ChatState, rule: PaceRule, t: number): void {
    s.tokens = Math.min(rule.burst, s.tokens + ((t - s.at) / 1000) * rule.perSecond)
    s.at = t
    if (rule.window !== undefined) {
      const from = t - rule.window.ms
      while (s.sent.length > 0 && (s.sent[0] as number) <= from) s.sent.shift()
    }
  }

  function sweep (): void {
    const t = now()
    for (const [id, s] of chats) {
      const rule = ruleOf(id)
      refill(s, rule, t)
      if (s.waiting === 0 && s.tokens >= rule.burst && s.sent.length === 0) chats.delete(id)
    }
  }

  function delayOf (chatId: number, s: ChatState, reserve: number): number {
    const rule = ruleOf(chatId)
    const t = now()
    refill(s, rule, t)
    let wait = s.tokens >= 1 ? 0 : Math.ceil(((1 - s.tokens) / rule.perSecond) * 1000)
    if (rule.window !== undefined) {
      // The window has room once enough of its oldest slots have expired.
      const k = s.sent.length + reserve - rule.window.count
      if (k >= 0) {
        const oldest = s.sent[Math.min(k, s.sent.length - 1)]
        wait = Math.max(wait, oldest === undefined ? rule.window.ms : oldest + rule.window.ms - t + 1)
      }
    }
    return wait
  }

  return {
    delay (chatId, reserve = 0) {
      const s = chats.get(chatId)
      if (s === undefined) return 0
      return Math.max(delayOf(chatId, s, reserve), s.waiting > 0 ? 1 : 0)
    },
    async acquire (chatId, given) {
      if (closing.signal.aborted) throw closing.signal.reason
      // One signal for this wait, fed by the caller's and by close. Both listeners go when the wait
      // ends: the close signal lives as long as the adapter and grammY's may too, so a listener left
      // on either kept every send's closure alive (and Node warned after the 11th).
      const leave = new AbortController()
      const signal = leave.signal
      const onClose = (): void => { leave.abort(closing.signal.reason) }
      const onGiven = (): void => { leave.abort(given?.reason) }
      if (given?.aborted === true) onGiven()
      closing.signal.addEventListener('abort', onClose, { once: true })
      given?.addEventListener('abort', onGiven, { once: true })
      const s = stateOf(chatId)
      s.waiting++
      const aborted = new Promise<never>((_resolve, reject) => {
        const stop = (): void => { reject(signal.reason) }
        if (signal.aborted) stop()
        else signal.addEventListener('abort', stop, { once: true })
      })
      aborted.catch(() => {})
      const turn = s.tail.then(async () => {
        for (let wait = delayOf(chatId, s, 0); wait > 0; wait = delayOf(chatId, s, 0)) {
          if (signal.aborted) throw signal.reason
          await Promise.race([sleep(wait, signal).catch(() => {}), aborted])
        }
        if (signal.aborted) throw signal.reason
        s.tokens -= 1
        if (ruleOf(chatId).window !== undefined) s.sent.push(now())
      })
      s.tail = turn.catch(() => {})
      try {
        await turn
      } finally {
        s.waiting--
        closing.signal.removeEventListener('abort', onClose)
        given?.removeEventListener('abort', onGiven)
      }
    },
    close () {
      closing.abort(new Error('the Telegram adapter is closed'))
    }
  }
}

/** Bot API methods that put a message into a chat or change one (what Telegram's per-chat limits count). */
export function isPacedMethod (method: string): boolean {
  return /^(?:send(?!ChatAction$|MessageDraft$)|edit|copyMessage|forwardMessage)/.test(method)
}

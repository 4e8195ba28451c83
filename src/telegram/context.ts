import type { Context } from 'grammy'
import type { WorkClaim } from '../claims.ts'

/** Where a reply goes: the chat, and the forum topic when the message came from one. */
export interface ChatTarget {
  chatId: number
  threadId?: number
}

/**
 * What the access gate (features/access.ts) found out about an update it let through: who wrote,
 * where to answer, and the text with the bot's @mention stripped (groups).
 */
export interface Addressed extends ChatTarget {
  /** The chat id as the core knows it (lanes, sessions): `String(chatId)`. */
  key: string
  userId: number
  /** The message text or caption, trimmed, `@botname` removed; '' for media without caption. */
  text: string
  /** The message to reply to (queued indicators), when the update is a message. */
  messageId?: number
  /** The update's claim: a run made for it passes this on (see src/core/claims.ts). */
  claim: WorkClaim
}

/** The context every feature sees. `ductor` is set by the access gate for every update it lets through. */
export type BotContext = Context & { ductor: Addressed }

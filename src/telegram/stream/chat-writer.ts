import { htmlToText } from '../format/html.ts'
import { classifyApiError, RateLimitedError } from './api-errors.ts'
import type { InlineKeyboardMarkup, SendMessageParams, StreamBotApi } from './types.ts'
import type { Logger } from '../../logger-types.ts'

/**
 * The messages one stream owns in a chat, and the only code that calls the Bot API for them.
 * `show(i, part)` makes message i display `part`: it sends it when there is no message i yet,
 * edits it when it shows something else, and does nothing when it already shows exactly that
 * (identical edits are never sent). Failures are handled here as far as they can be:
 *  - 429: RateLimitedError is thrown; the caller waits and tries again with fresher content;
 *  - "message is not modified": counted as done;
 *  - "message to edit not found" (the user deleted it): that message and the ones after it are
 *    forgotten (the later ones deleted) and the content is sent again as new messages;
 *  - "can't parse entities": that message switches to plain text, so nothing is lost;
 *  - anything else: counted as a consecutive failure and thrown as WriteFailedError.
 */

export interface Part {
  html: string
  markup?: InlineKeyboardMarkup
}

export interface ShownMessage {
  id: number
  /** What it shows: parse mode, text and keyboard as last accepted by Telegram. */
  key: string
  /** Telegram refused this message's HTML once; it is sent as plain text from then on. */
  plain: boolean
}

export class WriteFailedError extends Error {}

/** Attempts at deleting a message that is no longer part of the reply. */
const deleteAttempts = 4

export interface ChatWriter {
  readonly messages: ShownMessage[]
  /** Consecutive failed writes (reset by any success). */
  failures: () => number
  show: (index: number, part: Part) => Promise<boolean>
  /** Forgets messages from `index` on; returns their ids. */
  dropFrom: (index: number) => number[]
  /** Queues messages for deletion at the next flushDeletes. */
  deleteLater: (ids: number[]) => void
  /**
   * Deletes the queued messages. 429 is thrown; another failure is thrown as WriteFailedError so
   * the caller retries later, up to a few attempts per message, after which it is left alone.
   */
  flushDeletes: () => Promise<void>
  /**
   * Shows `html` as the chat's draft (sendMessageDraft). False when it already showed that and
   * `force` is not set (a draft fades after about 30 s, so a long pause needs it sent again).
   */
  draft: (html: string, force?: boolean) => Promise<boolean>
}

export interface ChatWriterOptions {
  api: StreamBotApi
  chatId: number
  threadId?: number
  /** The first message sent replies to this one. */
  replyToMessageId?: number
  draftId: number
  /** Bound to the chat (its lines carry `chatId` already). */
  logger?: Logger
}

function payload (part: Part, plain: boolean): { text: string, parse_mode?: 'HTML', reply_markup?: InlineKeyboardMarkup } {
  const text = plain ? htmlToText(part.html) : part.html
  return {
    text,
    ...(plain ? {} : { parse_mode: 'HTML' as const }),
    ...(part.markup !== undefined ? { reply_markup: part.markup } : {})
  }
}

function keyOf (part: Part, plain: boolean): string {
  const p = payload(part, plain)
  return `${p.parse_mode ?? 'plain'}\u0000${p.text.trim()}\u0000${JSON.stringify(p.reply_markup ?? null)}`
}

export function createChatWriter (options: ChatWriterOptions): ChatWriter {
  const { api, chatId, threadId, logger } = options
  const messages: ShownMessage[] = []
  const pendingDeletes: Array<{ id: number, tries: number }> = []
  let failures = 0
  let sentAny = false
  let draftKey = ''

  function failed (what: string, description: string): never {
    failures++
    logger?.warn({ what, description, failures }, 'telegram write failed')
    throw new WriteFailedError(`${what}: ${description}`)
  }

  async function send (index: number, part: Part, plain: boolean): Promise<void> {
    const params: SendMessageParams = { chat_id: chatId, ...payload(part, plain) }
    if (threadId !== undefined) params.message_thread_id = threadId
    if (!sentAny && options.replyToMessageId !== undefined) {
      params.reply_parameters = { message_id: options.replyToMessageId, allow_sending_without_reply: true }
    }
    try {
      const m = await api.sendMessage(params)
      sentAny = true
      failures = 0
      draftKey = '' // a real message ends the draft
      messages[index] = { id: m.message_id, key: keyOf(part, plain), plain }
    } catch (err) {
      const f = classifyApiError(err)
      if (f.kind === 'rate_limited') throw new RateLimitedError(f.retryAfterMs)
      if (f.kind === 'bad_html' && !plain) {
        logger?.warn({ description: f.description }, 'Telegram refused the HTML; sending plain text')
        await send(index, part, true)
        return
      }
      failed('sendMessage', f.kind === 'failed' || f.kind === 'bad_html' ? f.description : f.kind)
    }
  }

  async function edit (index: number, shown: ShownMessage, part: Part, plain: boolean): Promise<void> {
    try {
      await api.editMessageText({ chat_id: chatId, message_id: shown.id, ...payload(part, plain) })
    } catch (err) {
      const f = classifyApiError(err)
      if (f.kind === 'rate_limited') throw new RateLimitedError(f.retryAfterMs)
      if (f.kind === 'bad_html' && !plain) {
        logger?.warn({ description: f.description }, 'Telegram refused the HTML; editing as plain text')
        await edit(index, shown, part, true)
        return
      }
      if (f.kind === 'not_found') {
        failures++
        logger?.warn({ messageId: shown.id }, 'streamed message is gone; sending new messages')
        messages.splice(index, 1)
        deleteLater(dropFrom(index))
        await send(index, part, plain)
        return
      }
      if (f.kind !== 'not_modified') failed('editMessageText', f.kind === 'failed' || f.kind === 'bad_html' ? f.description : f.kind)
    }
    failures = 0
    messages[index] = { id: shown.id, key: keyOf(part, plain), plain }
  }

  function dropFrom (index: number): number[] {
    return messages.splice(index).map((m) => m.id)
  }

  function deleteLater (ids: number[]): void {
    for (const id of ids) pendingDeletes.push({ id, tries: 0 })
  }

  return {
    messages,
    failures: () => failures,
    async show (index, part) {
      const shown = messages[index]
      if (shown === undefined) {
        await send(messages.length, part, false)
        return true
      }
      if (shown.key === keyOf(part, shown.plain)) return false
      await edit(index, shown, part, shown.plain)
      return true
    },
    dropFrom,
    deleteLater,
    async flushDeletes () {
      while (pendingDeletes.length > 0) {
        const entry = pendingDeletes[0] as { id: number, tries: number }
        try {
          await api.deleteMessage({ chat_id: chatId, message_id: entry.id })
        } catch (err) {
          const f = classifyApiError(err)
          if (f.kind === 'rate_limited') throw new RateLimitedError(f.retryAfterMs)
          // Gone already is fine; anything else is tried again a few times, then left.
          if (f.kind === 'failed' && ++entry.tries < deleteAttempts) throw new WriteFailedError(`deleteMessage: ${f.description}`)
          if (f.kind !== 'not_found') logger?.warn({ messageId: entry.id, failure: f.kind }, 'could not delete a streamed message')
        }
        pendingDeletes.shift()
      }
    },
    async draft (html, force = false) {
      const sendDraft = api.sendMessageDraft
      if (sendDraft === undefined) throw new WriteFailedError('sendMessageDraft is not available')
      if (html === draftKey && !force) return false
      const base = { chat_id: chatId, draft_id: options.draftId, ...(threadId !== undefined ? { message_thread_id: threadId } : {}) }
      try {
        await sendDraft({ ...base, text: html, parse_mode: 'HTML' })
      } catch (err) {
        const f = classifyApiError(err)
        if (f.kind === 'rate_limited') throw new RateLimitedError(f.retryAfterMs)
        if (f.kind !== 'bad_html') throw new WriteFailedError(`sendMessageDraft: ${f.kind}`)
        await sendDraft({ ...base, text: htmlToText(html) }).catch((e: unknown) => {
          const g = classifyApiError(e)
          if (g.kind === 'rate_limited') throw new RateLimitedError(g.retryAfterMs)
          throw new WriteFailedError(`sendMessageDraft: ${g.kind}`)
        })
      }
      draftKey = html
      return true
    }
  }
}

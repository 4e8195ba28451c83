import type { Api } from 'grammy'
import { setTimeout as sleep } from 'node:timers/promises'
import { renderMarkdown } from './format/markdown.ts'
import { htmlToText } from './format/html.ts'
import { splitHtml } from './format/split.ts'
import type { InlineButton } from './format/markers.ts'
import { classifyApiError } from './stream/api-errors.ts'
import type { ChatTarget } from './context.ts'

/** Longest 429 wait a one-off message accepts before giving up. */
const maxRetryAfterMs = 60_000

export interface SendMarkdownOptions {
  buttons?: InlineButton[][]
  replyTo?: number
  /** How each part's send is retried (default `withRetry`: one 429 wait); a part sent is never sent again. */
  retry?: <T>(fn: () => Promise<T>) => Promise<T>
  /** Parts an earlier try sent already (a replayed automation result, ADR 0044): not sent again. */
  skip?: number
  /** Told after each part Telegram took, with how many parts are sent now; awaited before the next part. */
  onSent?: (sent: number) => Promise<void>
}

/** Parameters every message to `where` carries (the forum topic). */
export function threadParams (where: ChatTarget): { message_thread_id?: number } {
  return where.threadId !== undefined ? { message_thread_id: where.threadId } : {}
}

/**
 * Sends Markdown as one or more messages (rendered to Telegram HTML, split at 4096 on block
 * boundaries), the keyboard on the last. A part Telegram refuses as HTML goes again as plain text;
 * a 429 waits `retry_after` once. Returns the message ids sent. The split depends only on the text,
 * so `skip` names the same parts again in a later life (of the same version).
 */
export async function sendMarkdown (api: Api, where: ChatTarget, markdown: string, opts: SendMarkdownOptions = {}): Promise<number[]> {
  const parts = markdownParts(markdown, opts.buttons)
  const ids: number[] = []
  for (const [i, html] of parts.entries()) {
    if (i < (opts.skip ?? 0)) continue
    const last = i === parts.length - 1
    const extra = {
      ...threadParams(where),
      ...(i === 0 && opts.replyTo !== undefined ? { reply_parameters: { message_id: opts.replyTo, allow_sending_without_reply: true } } : {}),
      ...(last && opts.buttons !== undefined && opts.buttons.length > 0 ? { reply_markup: { inline_keyboard: opts.buttons } } : {})
    }
    const sent = await (opts.retry ?? withRetry)(async () => {
      try {
        return await api.sendMessage(where.chatId, html, { ...extra, parse_mode: 'HTML' })
      } catch (err) {
        if (classifyApiError(err).kind !== 'bad_html') throw err
        return await api.sendMessage(where.chatId, htmlToText(html), extra)
      }
    })
    ids.push(sent.message_id)
    await opts.onSent?.(i + 1)
  }
  return ids
}

/** The messages (Telegram HTML) `sendMarkdown` sends for `markdown`: at least one. */
export function markdownParts (markdown: string, buttons?: InlineButton[][]): string[] {
  const parts = splitHtml(renderMarkdown(markdown))
  if (parts.length === 0) parts.push(buttons !== undefined && buttons.length > 0 ? '👇' : '…')
  return parts
}

/** Runs `fn`, and once more after Telegram's `retry_after` when it answers 429. */
export async function withRetry<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const failure = classifyApiError(err)
    if (failure.kind !== 'rate_limited' || failure.retryAfterMs > maxRetryAfterMs) throw err
    await sleep(failure.retryAfterMs)
    return await fn()
  }
}

import type { Api } from 'grammy'
import { DuctorError, ErrorCodes } from '../errors.ts'
import type { Logger } from '../logger-types.ts'
import type { ChatTarget } from './context.ts'
import { threadParams, withRetry } from './send.ts'

/** What the chat is told when handling its message failed for a reason nobody foresaw. */
export const GENERIC_FAILURE = '⚠️ Sorry, something went wrong on my side while handling that. The details are in ductor\'s log (ductor logs).'

/** Longest text of a button press's toast (Telegram allows 200 characters). */
const toastMax = 200

/**
 * What the user is told when a message, command or button press failed (ADR 0044). A DuctorError
 * carries a sentence meant for the user — the one `PATCH /api/config` answers with (e.g. a config
 * file with a broken hand edit: "nothing was changed; fix the file first") — and is shown as it is;
 * an internal error (the same ones the admin API hides behind "internal error") gets a short apology.
 * Never a stack trace.
 */
export function failureText (err: unknown): { text: string, expected: boolean } {
  if (err instanceof DuctorError && err.code !== ErrorCodes.internal) {
    return { text: `⚠️ ${err.message}`, expected: true }
  }
  return { text: GENERIC_FAILURE, expected: false }
}

/**
 * Logs a failed message (the detail, with a stack only for an unexpected error) and tells its chat
 * in plain text (the sentence may hold paths and underscores that Markdown would mangle). Never throws.
 */
export async function reportFailure (api: Api, where: ChatTarget, err: unknown, logger: Logger, fields: Record<string, unknown> = {}): Promise<void> {
  const { text, expected } = failureText(err)
  if (expected) {
    const e = err as DuctorError
    logger.warn({ ...fields, chatId: where.chatId, code: e.code, reason: e.message }, 'telegram: message refused')
  } else {
    logger.error({ ...fields, err, chatId: where.chatId }, 'telegram: message failed')
  }
  await withRetry(async () => await api.sendMessage(where.chatId, text.slice(0, 4000), threadParams(where)))
    .catch((sendErr: unknown) => { logger.warn({ err: sendErr, chatId: where.chatId }, 'telegram: could not tell the chat that its message failed') })
}

/** A button press whose action failed: its toast says why (shortened); reportFailure tells the chat. */
export function toastText (err: unknown): string {
  const { text } = failureText(err)
  return text.length <= toastMax ? text : `${text.slice(0, toastMax - 1)}…`
}

import type { InlineButton } from '../format/markers.ts'

/**
 * What the streaming editor consumes: the normalized CLI events (SPEC §7.1). Structurally a
 * superset-compatible copy of the providers' `CliEvent`, so this module does not depend on them.
 */
export type StreamEvent =
  | { type: 'text', text: string }
  | { type: 'thinking', text: string }
  | { type: 'tool', name: string, summary?: string }
  | { type: 'status', status: string, kind?: string }
  | { type: 'result', result: { text: string, isError?: boolean } }
  | { type: 'session', sessionId: string }

/** The `streaming` section of config.json (SPEC §2), as far as the editor uses it. */
export interface StreamingSettings {
  enabled: boolean
  edit_interval_seconds: number
  max_edit_failures: number
  append_mode: boolean
  min_chars: number
  max_chars: number
  idle_ms: number
  sentence_break?: boolean
}

export const defaultStreamingSettings: StreamingSettings = {
  enabled: true,
  edit_interval_seconds: 2,
  max_edit_failures: 3,
  append_mode: false,
  min_chars: 200,
  max_chars: 4000,
  idle_ms: 800,
  sentence_break: true
}

export interface InlineKeyboardMarkup { inline_keyboard: InlineButton[][] }

export interface SendMessageParams {
  chat_id: number
  text: string
  parse_mode?: 'HTML'
  message_thread_id?: number
  reply_parameters?: { message_id: number, allow_sending_without_reply?: boolean }
  reply_markup?: InlineKeyboardMarkup
}

export interface EditMessageTextParams {
  chat_id: number
  message_id: number
  text: string
  parse_mode?: 'HTML'
  reply_markup?: InlineKeyboardMarkup
}

export interface SendMessageDraftParams {
  chat_id: number
  draft_id: number
  text: string
  parse_mode?: 'HTML'
  message_thread_id?: number
}

/**
 * The Bot API calls the editor needs, as plain async functions taking Bot API parameter objects.
 * Failures are thrown as the Bot API reports them (`error_code`, `description`,
 * `parameters.retry_after`, which is what grammY's GrammyError carries); anything else counts as a
 * network failure. See grammy-api.ts for the adapter.
 */
export interface StreamBotApi {
  sendMessage: (params: SendMessageParams) => Promise<{ message_id: number }>
  editMessageText: (params: EditMessageTextParams) => Promise<unknown>
  deleteMessage: (params: { chat_id: number, message_id: number }) => Promise<unknown>
  sendMessageDraft?: (params: SendMessageDraftParams) => Promise<unknown>
}

/** What a finished stream left in the chat. */
export interface StreamOutcome {
  /** The messages that hold the final reply, in order (buttons are on the last). */
  messageIds: number[]
  /** `<file:…>` paths from the final reply, for the caller to check and send. */
  files: string[]
  buttons: InlineButton[][]
  /** False when Telegram kept failing and the final reply could not be (fully) delivered. */
  delivered: boolean
  /** True when edits failed and the stream fell back to sending new messages. */
  degraded: boolean
}

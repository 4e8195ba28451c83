import type { RawApi } from 'grammy'
import type { InlineKeyboardMarkup } from 'grammy/types'
import { StreamingSchema, type Config } from '../../config-schema.ts'
import { fillDefaults } from '../../schema-value.ts'
import type { InlineButton } from '../format/markers.ts'
import type { CliEvent, CliResult } from '../../providers/events.ts'

export type { InlineKeyboardMarkup }

/**
 * What the streaming editor consumes: the normalized CLI events (SPEC §7.1); a result needs only its
 * text (the chat sink also ends a stream with a reply that came without a CLI result).
 */
export type StreamEvent = Exclude<CliEvent, { type: 'result' }> | { type: 'result', result: Pick<CliResult, 'text'> & Partial<Pick<CliResult, 'isError'>> }

/** The `streaming` section of config.json (SPEC §2). */
export type StreamingSettings = Config['streaming']

/** The section's defaults, from the config schema. */
export const defaultStreamingSettings = fillDefaults(StreamingSchema, {}) as StreamingSettings

/** The parameters of a Bot API method, as grammY types them. */
type Params<M extends keyof RawApi> = Parameters<RawApi[M]>[0]
export type SendMessageParams = Params<'sendMessage'>
export type EditMessageTextParams = Params<'editMessageText'>
export type SendMessageDraftParams = Params<'sendMessageDraft'>

/**
 * The Bot API calls the editor needs, as plain async functions taking Bot API parameter objects.
 * Failures are thrown as the Bot API reports them (`error_code`, `description`,
 * `parameters.retry_after`, which is what grammY's GrammyError carries); anything else counts as a
 * network failure. See grammy-api.ts for the adapter.
 */
export interface StreamBotApi {
  sendMessage: (params: SendMessageParams) => Promise<{ message_id: number }>
  editMessageText: (params: EditMessageTextParams) => Promise<unknown>
  deleteMessage: (params: Params<'deleteMessage'>) => Promise<unknown>
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

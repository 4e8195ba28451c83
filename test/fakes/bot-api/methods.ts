/**
 * The Bot API methods of the fake server, over an in-memory state. Each handler returns the
 * `result` or throws ApiError, answered the way Telegram answers.
 */
import { parseTelegramHtml } from './telegram-html.ts'
import type { ParsedEntity } from './telegram-html.ts'
import type { UploadedFile } from './multipart.ts'

export class ApiError extends Error {
  readonly code: number
  readonly retryAfter: number | undefined
  constructor (code: number, description: string, retryAfter?: number) {
    super(description)
    this.code = code
    this.retryAfter = retryAfter
  }
}

export const Errors = {
  notModified: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  editNotFound: 'Bad Request: message to edit not found',
  deleteNotFound: 'Bad Request: message to delete not found',
  tooLong: 'Bad Request: message is too long',
  captionTooLong: 'Bad Request: message caption is too long',
  textEmpty: 'Bad Request: message text is empty',
  chatNotFound: 'Bad Request: chat not found'
} as const

export interface StoredMessage {
  message_id: number
  chat_id: number
  kind: 'text' | 'photo' | 'document'
  /** Visible text (or caption) after entity parsing and trimming, as Telegram keeps it. */
  text: string
  entities: ParsedEntity[]
  /** The raw text as the bot sent it last, with its parse_mode. */
  raw: string
  parse_mode?: string
  reply_markup?: unknown
  file?: { file_id: string, file_name: string, size: number }
  deleted: boolean
  edits: number
  date: number
  message_thread_id?: number
}

export interface StoredFile { file_id: string, file_unique_id: string, file_path: string, data: Buffer, file_size: number }

export interface BotState {
  token: string
  me: Record<string, unknown>
  now: () => number
  strictHtml: boolean
  chats: Map<number, Map<number, StoredMessage>>
  nextMessageId: Map<number, number>
  drafts: Map<number, { draft_id: number, text: string, entities: ParsedEntity[] }>
  files: Map<string, StoredFile>
  commands: unknown[]
  webhook: { url: string, secret_token?: string, allowed_updates?: unknown, max_connections?: number } | null
}

export type Params = Record<string, unknown>

function num (p: Params, key: string, required = true): number {
  const v = p[key]
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n === 'number' && Number.isFinite(n)) return n
  if (required) throw new ApiError(400, `Bad Request: ${key} is required`)
  return NaN
}

function json (p: Params, key: string): unknown {
  const v = p[key]
  if (typeof v !== 'string') return v
  try { return JSON.parse(v) } catch { throw new ApiError(400, `Bad Request: can't parse ${key} JSON object`) }
}

function chatOf (state: BotState, chatId: number): Map<number, StoredMessage> {
  let chat = state.chats.get(chatId)
  if (chat === undefined) {
    chat = new Map()
    state.chats.set(chatId, chat)
  }
  return chat
}

export function formatText (state: BotState, raw: unknown, parseMode: unknown, limit: number, what: 'text' | 'caption' | 'draft'): { text: string, entities: ParsedEntity[] } {
  const source = typeof raw === 'string' ? raw : raw === undefined ? '' : String(raw)
  let result: { text: string, entities: ParsedEntity[] }
  if (typeof parseMode === 'string' && parseMode.toLowerCase() === 'html') {
    const parsed = parseTelegramHtml(source, { strict: state.strictHtml })
    if (!parsed.ok) throw new ApiError(400, `Bad Request: can't parse entities: ${parsed.error}`)
    result = { text: parsed.text, entities: parsed.entities }
  } else {
    result = { text: source.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''), entities: [] }
  }
  if (what === 'text' && result.text === '') throw new ApiError(400, Errors.textEmpty)
  if (result.text.length > limit) throw new ApiError(400, what === 'caption' ? Errors.captionTooLong : Errors.tooLong)
  return result
}

function validateMarkup (markup: unknown): unknown {
  if (markup === undefined || markup === null) return undefined
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard
  if (rows === undefined) return markup
  if (!Array.isArray(rows)) throw new ApiError(400, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
  for (const row of rows) {
    if (!Array.isArray(row)) throw new ApiError(400, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for (const b of row as Array<Record<string, unknown>>) {
      if (typeof b.text !== 'string' || b.text === '') throw new ApiError(400, 'Bad Request: BUTTON_TEXT_INVALID')
      if (typeof b.callback_data === 'string' && Buffer.byteLength(b.callback_data) > 64) throw new ApiError(400, 'Bad Request: BUTTON_DATA_INVALID')
      // Exactly one action per button, as Telegram wants (of the kinds ductor sends).
      const actions = ['callback_data', 'url'].filter((k) => b[k] !== undefined)
      if (actions.length !== 1) throw new ApiError(400, 'Bad Request: can\'t parse inline keyboard button: Text buttons are unallowed in the inline keyboard')
      if (b.url !== undefined && (typeof b.url !== 'string' || !/^(https?|tg):\/\/[^\s]+$/.test(b.url))) throw new ApiError(400, 'Bad Request: BUTTON_URL_INVALID')
    }
  }
  return markup
}

export function chatType (chatId: number): 'private' | 'supergroup' {
  return chatId > 0 ? 'private' : 'supergroup'
}

export function messageJson (state: BotState, m: StoredMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    message_id: m.message_id,
    from: state.me,
    chat: m.chat_id > 0 ? { id: m.chat_id, type: 'private', first_name: 'Test' } : { id: m.chat_id, type: 'supergroup', title: 'Test group' },
    date: m.date
  }
  if (m.message_thread_id !== undefined) out.message_thread_id = m.message_thread_id
  if (m.edits > 0) out.edit_date = Math.floor(state.now() / 1000)
  if (m.kind === 'text') {
    out.text = m.text
    if (m.entities.length > 0) out.entities = m.entities
  } else {
    if (m.text !== '') out.caption = m.text
    if (m.entities.length > 0) out.caption_entities = m.entities
    const file = m.file ?? { file_id: '', file_name: '', size: 0 }
    const unique = `u${file.file_id}`
    if (m.kind === 'photo') out.photo = [{ file_id: file.file_id, file_unique_id: unique, width: 1, height: 1, file_size: file.size }]
    else out.document = { file_id: file.file_id, file_unique_id: unique, file_name: file.file_name, file_size: file.size }
  }
  if (m.reply_markup !== undefined) out.reply_markup = m.reply_markup
  return out
}

function store (state: BotState, p: Params, kind: StoredMessage['kind'], formatted: { text: string, entities: ParsedEntity[] }, raw: string): StoredMessage {
  const chatId = num(p, 'chat_id')
  const id = state.nextMessageId.get(chatId) ?? 1
  state.nextMessageId.set(chatId, id + 1)
  const thread = num(p, 'message_thread_id', false)
  const m: StoredMessage = {
    message_id: id,
    chat_id: chatId,
    kind,
    ...formatted,
    raw,
    ...(typeof p.parse_mode === 'string' ? { parse_mode: p.parse_mode } : {}),
    reply_markup: validateMarkup(json(p, 'reply_markup')),
    deleted: false,
    edits: 0,
    date: Math.floor(state.now() / 1000),
    ...(Number.isNaN(thread) ? {} : { message_thread_id: thread })
  }
  if (m.reply_markup === undefined) delete m.reply_markup
  chatOf(state, chatId).set(id, m)
  state.drafts.delete(chatId)
  return m
}

function findMessage (state: BotState, p: Params, missing: string): StoredMessage {
  const m = state.chats.get(num(p, 'chat_id'))?.get(num(p, 'message_id'))
  if (m === undefined || m.deleted) throw new ApiError(400, missing)
  return m
}

export function addFile (state: BotState, data: Buffer, filePath?: string, fileSize?: number): StoredFile {
  const n = state.files.size + 1
  const file: StoredFile = {
    file_id: `file-${n}-${Math.random().toString(36).slice(2, 10)}`,
    file_unique_id: `unique-${n}`,
    file_path: filePath ?? `documents/file_${n}`,
    data,
    file_size: fileSize ?? data.length
  }
  state.files.set(file.file_id, file)
  return file
}

function sendFile (state: BotState, p: Params, uploads: UploadedFile[], field: 'photo' | 'document'): unknown {
  const value = p[field]
  let upload = uploads.find((f) => f.field === field)
  if (typeof value === 'string' && value.startsWith('attach://')) upload = uploads.find((f) => f.field === value.slice(9))
  let file: StoredFile
  let name: string
  if (upload !== undefined) {
    file = addFile(state, upload.data, `${field === 'photo' ? 'photos' : 'documents'}/${upload.filename}`)
    name = upload.filename
  } else if (typeof value === 'string' && state.files.has(value)) {
    file = state.files.get(value) as StoredFile
    name = file.file_path.split('/').pop() ?? 'file'
  } else if (typeof value === 'string' && /^https?:\/\//.test(value)) {
    file = addFile(state, Buffer.alloc(0), `${field}s/${value.split('/').pop() ?? 'file'}`)
    name = value.split('/').pop() ?? 'file'
  } else {
    throw new ApiError(400, `Bad Request: there is no ${field} in the request`)
  }
  const formatted = formatText(state, p.caption, p.parse_mode, 1024, 'caption')
  const m = store(state, p, field, formatted, typeof p.caption === 'string' ? p.caption : '')
  m.file = { file_id: file.file_id, file_name: name, size: file.file_size }
  return messageJson(state, m)
}

export type Handler = (state: BotState, p: Params, uploads: UploadedFile[]) => unknown

export const handlers: Record<string, Handler> = {
  getme: (s) => s.me,
  sendmessage (s, p) {
    const formatted = formatText(s, p.text, p.parse_mode, 4096, 'text')
    return messageJson(s, store(s, p, 'text', formatted, String(p.text)))
  },
  editmessagetext (s, p) {
    const m = findMessage(s, p, Errors.editNotFound)
    if (m.kind !== 'text') throw new ApiError(400, 'Bad Request: there is no text in the message to edit')
    const formatted = formatText(s, p.text, p.parse_mode, 4096, 'text')
    const markup = validateMarkup(json(p, 'reply_markup'))
    const same = formatted.text === m.text && JSON.stringify(formatted.entities) === JSON.stringify(m.entities) &&
      JSON.stringify(markup) === JSON.stringify(m.reply_markup)
    if (same) throw new ApiError(400, Errors.notModified)
    Object.assign(m, formatted, { raw: String(p.text), edits: m.edits + 1 })
    if (typeof p.parse_mode === 'string') m.parse_mode = p.parse_mode
    else delete m.parse_mode
    if (markup === undefined) delete m.reply_markup
    else m.reply_markup = markup
    return messageJson(s, m)
  },
  editmessagereplymarkup (s, p) {
    const m = findMessage(s, p, Errors.editNotFound)
    const markup = validateMarkup(json(p, 'reply_markup'))
    if (JSON.stringify(markup) === JSON.stringify(m.reply_markup)) throw new ApiError(400, Errors.notModified)
    if (markup === undefined) delete m.reply_markup
    else m.reply_markup = markup
    m.edits++
    return messageJson(s, m)
  },
  deletemessage (s, p) {
    findMessage(s, p, Errors.deleteNotFound).deleted = true
    return true
  },
  sendchataction (_s, p) {
    num(p, 'chat_id')
    if (typeof p.action !== 'string') throw new ApiError(400, 'Bad Request: action is required')
    return true
  },
  answercallbackquery (_s, p) {
    if (typeof p.callback_query_id !== 'string' || p.callback_query_id === '') {
      throw new ApiError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid')
    }
    return true
  },
  setmycommands (s, p) {
    const commands = json(p, 'commands')
    if (!Array.isArray(commands)) throw new ApiError(400, 'Bad Request: commands is required')
    for (const c of commands as Array<Record<string, unknown>>) {
      if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw new ApiError(400, 'Bad Request: BOT_COMMAND_INVALID')
      if (typeof c.description !== 'string' || c.description.length === 0 || c.description.length > 256) throw new ApiError(400, 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID')
    }
    s.commands = commands
    return true
  },
  getmycommands: (s) => s.commands,
  deletemycommands (s) {
    s.commands = []
    return true
  },
  getfile (s, p) {
    const file = typeof p.file_id === 'string' ? s.files.get(p.file_id) : undefined
    if (file === undefined) throw new ApiError(400, 'Bad Request: invalid file_id')
    if (file.file_size > 20 * 1024 * 1024) throw new ApiError(400, 'Bad Request: file is too big')
    return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size, file_path: file.file_path }
  },
  sendphoto: (s, p, uploads) => sendFile(s, p, uploads, 'photo'),
  senddocument: (s, p, uploads) => sendFile(s, p, uploads, 'document'),
  sendmessagedraft (s, p) {
    const chatId = num(p, 'chat_id')
    const draftId = num(p, 'draft_id')
    if (chatType(chatId) !== 'private') throw new ApiError(400, 'Bad Request: message drafts can be sent only to private chats')
    if (draftId === 0) throw new ApiError(400, 'Bad Request: draft_id must be non-zero')
    // An empty draft shows a "Thinking…" placeholder.
    const formatted = formatText(s, p.text, p.parse_mode, 4096, 'draft')
    s.drafts.set(chatId, { draft_id: draftId, ...formatted })
    return true
  }
}

/**
 * A fake Telegram Bot API server for tests (node:http, 127.0.0.1, random port). The real grammY
 * client talks to it through `apiRoot`: `new Api(token, { apiRoot })` or
 * `new Bot(token, { client: { apiRoot } })`.
 *
 * It answers like Telegram (`{ok:true,result}` / `{ok:false,error_code,description,parameters}`),
 * validates HTML like Telegram (strictly, see telegram-html.ts), rate-limits per chat with 429 +
 * `retry_after`, keeps every message's current text, records every call, and can be told to fail:
 * `fake.fail('editMessageText', { status: 429, retryAfter: 3 }, 2)`.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { ApiError, addFile, handlers, chatType } from './methods.ts'
import type { BotState, Params, StoredMessage } from './methods.ts'
import { boundaryOf, parseMultipart } from './multipart.ts'
import type { UploadedFile } from './multipart.ts'
import { createRateLimiter, telegramLikeLimits } from './rate-limit.ts'
import type { RateLimits } from './rate-limit.ts'
import { createUpdateQueue } from './updates.ts'

export type { StoredMessage } from './methods.ts'

export type Fault =
  | { status: 429, retryAfter?: number }
  | { status: 400 | 403 | 500, description?: string }
  /** Telegram's gateway errors come as an HTML page, not JSON. */
  | { status: 502 | 504 }
  /** The connection is closed without an answer. */
  | { status: 'drop' }
  /** Answer normally, after `ms` real milliseconds. */
  | { status: 'delay', ms: number }

export interface RecordedCall {
  method: string
  params: Params
  files: Array<{ field: string, filename: string, size: number }>
  /** Clock time when the call arrived. */
  at: number
  ok: boolean
  errorCode?: number
  description?: string
}

export interface FakeBotApiOptions {
  token?: string
  /** Time for rate limits and message dates; share a virtual clock with the code under test. */
  now?: () => number
  /** Per-chat limits; false turns rate limiting off. */
  rateLimits?: RateLimits | false
  /** Telegram-exact HTML parsing (false) or stricter (true, default). See telegram-html.ts. */
  strictHtml?: boolean
  /** Longest getUpdates wait in real milliseconds, whatever `timeout` the client asks for. */
  maxPollMs?: number
}

export interface FakeBotApi {
  readonly token: string
  /** `http://127.0.0.1:<port>`; set once started. */
  readonly apiRoot: string
  readonly calls: RecordedCall[]
  start: () => Promise<string>
  close: () => Promise<void>
  callsOf: (method: string) => RecordedCall[]
  /** Messages of a chat that are not deleted, oldest first. */
  messages: (chatId: number) => StoredMessage[]
  /** Every message of a chat, deleted ones included. */
  allMessages: (chatId: number) => StoredMessage[]
  draft: (chatId: number) => { draft_id: number, text: string } | undefined
  /** Queues an update for getUpdates (update_id is assigned when missing); returns it. */
  pushUpdate: (update: Record<string, unknown>) => Record<string, unknown>
  /** Makes a file downloadable via getFile + /file/bot<token>/<path>; returns its file_id. */
  addFile: (data: Buffer | string, options?: { filePath?: string, fileSize?: number }) => string
  /** The next `times` calls of `method` ('*' = any) fail with `fault`; with `when`, only the calls whose params it accepts. */
  fail: (method: string, fault: Fault, times?: number, when?: (params: Params) => boolean) => void
  /** Forgets faults not used up yet. */
  clearFaults: () => void
  /** The user deletes a message in their app (no Bot API call, no fault, no rate limit). */
  userDeletes: (chatId: number, messageId: number) => void
  webhook: () => BotState['webhook']
  commands: () => unknown[]
}

export function createFakeBotApi (options: FakeBotApiOptions = {}): FakeBotApi {
  const token = options.token ?? '123456:TEST-fake-token'
  const now = options.now ?? (() => Date.now())
  const limits = options.rateLimits === undefined ? telegramLikeLimits : options.rateLimits
  const limiter = createRateLimiter(now)
  const state: BotState = {
    token,
    now,
    strictHtml: options.strictHtml ?? true,
    me: { id: Number(token.split(':')[0]) || 123456, is_bot: true, first_name: 'Ductor Test', username: 'ductor_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false },
    chats: new Map(),
    nextMessageId: new Map(),
    drafts: new Map(),
    files: new Map(),
    commands: [],
    webhook: null
  }
  const updates = createUpdateQueue(options.maxPollMs ?? 30_000)
  const faults: Array<{ method: string, fault: Fault, left: number, when: ((params: Params) => boolean) | undefined }> = []
  const calls: RecordedCall[] = []
  let apiRoot = ''

  const counted = new Set(['sendmessage', 'editmessagetext', 'editmessagereplymarkup', 'sendphoto', 'senddocument'])

  function rateLimit (method: string, params: Params): void {
    if (limits === false) return
    const chatId = Number(params.chat_id)
    if (!Number.isFinite(chatId)) return
    let retry = 0
    if (method === 'sendmessagedraft') {
      if (limits.drafts !== null) retry = limiter.take(`draft:${chatId}`, limits.drafts)
    } else if (counted.has(method)) {
      retry = limiter.take(`chat:${chatId}`, chatType(chatId) === 'private' ? limits.private : limits.group)
    }
    if (retry > 0) throw new ApiError(429, `Too Many Requests: retry after ${retry}`, retry)
  }

  function takeFault (method: string, params: Params): Fault | null {
    const i = faults.findIndex((f) => f.left > 0 && (f.method === '*' || f.method.toLowerCase() === method) && (f.when === undefined || f.when(params)))
    if (i === -1) return null
    const f = faults[i] as { fault: Fault, left: number }
    f.left--
    if (f.left === 0) faults.splice(i, 1)
    return f.fault
  }

  function send (res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  async function readParams (req: IncomingMessage, url: URL): Promise<{ params: Params, uploads: UploadedFile[] }> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const params: Params = Object.fromEntries(url.searchParams)
    const type = req.headers['content-type'] ?? ''
    let uploads: UploadedFile[] = []
    if (body.length === 0) return { params, uploads }
    if (type.includes('application/json')) {
      Object.assign(params, JSON.parse(body.toString('utf8')) as Params)
    } else if (type.includes('multipart/form-data')) {
      const parsed = parseMultipart(body, boundaryOf(type) ?? '')
      Object.assign(params, parsed.fields)
      uploads = parsed.files
    } else {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))))
    }
    return { params, uploads }
  }

  async function handleMethod (req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const { params, uploads } = await readParams(req, url)
    const call: RecordedCall = { method, params, files: uploads.map((f) => ({ field: f.field, filename: f.filename, size: f.data.length })), at: now(), ok: true }
    calls.push(call)
    const key = method.toLowerCase()
    const fault = takeFault(key, params)
    if (fault !== null) {
      if (fault.status === 'drop') { req.socket.destroy(); call.ok = false; call.description = 'connection dropped'; return }
      if (fault.status === 'delay') await delay(fault.ms)
      else if (fault.status === 502 || fault.status === 504) {
        call.ok = false
        call.errorCode = fault.status
        res.writeHead(fault.status, { 'content-type': 'text/html' })
        res.end(`<html>\r\n<head><title>${fault.status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${fault.status} Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n`)
        return
      } else {
        const error = fault.status === 429
          ? new ApiError(429, `Too Many Requests: retry after ${fault.retryAfter ?? 1}`, fault.retryAfter ?? 1)
          : new ApiError(fault.status, ('description' in fault ? fault.description : undefined) ?? (fault.status === 500 ? 'Internal Server Error' : fault.status === 403 ? 'Forbidden: bot was blocked by the user' : 'Bad Request'))
        answerError(res, call, error)
        return
      }
    }
    try {
      const result = await run(key, params, uploads)
      const extra = key === 'setwebhook' ? { description: 'Webhook was set' } : key === 'deletewebhook' ? { description: 'Webhook was deleted' } : {}
      send(res, 200, { ok: true, result, ...extra })
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      answerError(res, call, err)
    }
  }

  function answerError (res: ServerResponse, call: RecordedCall, err: ApiError): void {
    call.ok = false
    call.errorCode = err.code
    call.description = err.message
    const body: Record<string, unknown> = { ok: false, error_code: err.code, description: err.message }
    if (err.retryAfter !== undefined) body.parameters = { retry_after: err.retryAfter }
    send(res, err.code, body)
  }

  async function run (key: string, params: Params, uploads: UploadedFile[]): Promise<unknown> {
    if (key === 'getupdates') {
      if (state.webhook !== null) throw new ApiError(409, 'Conflict: can\'t use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first')
      return await updates.poll(params)
    }
    if (key === 'setwebhook') {
      const url = typeof params.url === 'string' ? params.url : ''
      if (url === '') { state.webhook = null; return true }
      if (!url.startsWith('https://')) throw new ApiError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook')
      const secret = params.secret_token
      if (typeof secret === 'string' && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw new ApiError(400, 'Bad Request: secret token contains unallowed characters')
      state.webhook = { url, ...(typeof secret === 'string' ? { secret_token: secret } : {}), ...(params.allowed_updates !== undefined ? { allowed_updates: typeof params.allowed_updates === 'string' ? JSON.parse(params.allowed_updates) : params.allowed_updates } : {}) }
      if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') updates.clear()
      return true
    }
    if (key === 'deletewebhook') {
      state.webhook = null
      if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') updates.clear()
      return true
    }
    if (key === 'getwebhookinfo') {
      const info: Record<string, unknown> = { url: state.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: updates.size() }
      if (state.webhook?.allowed_updates !== undefined) info.allowed_updates = state.webhook.allowed_updates
      return info
    }
    const handler = handlers[key]
    if (handler === undefined) throw new ApiError(404, 'Not Found')
    rateLimit(key, params)
    return handler(state, params, uploads)
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname)
    if (file !== null) {
      const stored = [...state.files.values()].find((f) => f.file_path === decodeURIComponent(file[2] ?? ''))
      if (file[1] !== token || stored === undefined) { send(res, 404, { ok: false, error_code: 404, description: 'Not Found' }); return }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stored.data.length })
      res.end(stored.data)
      return
    }
    const m = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname)
    if (m === null) { send(res, 404, { ok: false, error_code: 404, description: 'Not Found' }); return }
    if (m[1] !== token) {
      req.resume()
      calls.push({ method: m[2] ?? '', params: {}, files: [], at: now(), ok: false, errorCode: 401, description: 'Unauthorized' })
      send(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' })
      return
    }
    handleMethod(req, res, url, m[2] ?? '').catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${(err as Error).message}` })
    })
  })

  return {
    token,
    get apiRoot () { return apiRoot },
    calls,
    async start () {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve())
      })
      apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      return apiRoot
    },
    async close () {
      updates.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
    callsOf: (method) => calls.filter((c) => c.method.toLowerCase() === method.toLowerCase()),
    messages: (chatId) => [...(state.chats.get(chatId)?.values() ?? [])].filter((m) => !m.deleted),
    allMessages: (chatId) => [...(state.chats.get(chatId)?.values() ?? [])],
    draft: (chatId) => state.drafts.get(chatId),
    pushUpdate: (update) => updates.push(update),
    addFile: (data, opts = {}) => addFile(state, typeof data === 'string' ? Buffer.from(data) : data, opts.filePath, opts.fileSize).file_id,
    fail (method, fault, times = 1, when) { faults.push({ method, fault, left: times, when }) },
    clearFaults () { faults.length = 0 },
    userDeletes (chatId, messageId) {
      const m = state.chats.get(chatId)?.get(messageId)
      if (m !== undefined) m.deleted = true
    },
    webhook: () => state.webhook,
    commands: () => state.commands
  }
}

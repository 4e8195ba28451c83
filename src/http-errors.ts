import type { Duplex } from 'node:stream'
import { DuctorError, ErrorCodes, httpStatusByCode, isNoSpace, type ErrorCode } from './errors.ts'
import { JOB_ID_PATTERN } from './automation/cron-schema.ts'

/**
 * Every refusal of every listener as `{ error: <stable code>, message: <sentence> }` (SPEC §3,
 * docs/admin-api.md, ADR 0045): our own errors as they are, and what Fastify, its router and the
 * schema validator raise, reworded so a message names the field as the user sends it ("the path's
 * chat id", "update_id in the body", "limit in the query string"), what is wrong and what is
 * allowed. No Fastify error code, no validator path and no status text ever reaches the answer.
 * Plain data in and out: src/app.ts wires it into Fastify.
 */
export interface HttpError { status: number, code: ErrorCode, message: string }

const codeByStatus: Record<number, ErrorCode> = {
  400: ErrorCodes.badRequest,
  401: ErrorCodes.unauthorized,
  403: ErrorCodes.forbidden,
  404: ErrorCodes.notFound,
  409: ErrorCodes.conflict,
  413: ErrorCodes.payloadTooLarge,
  415: ErrorCodes.unsupportedMediaType,
  429: ErrorCodes.rateLimited,
  503: ErrorCodes.unavailable
}

/** Fastify's own request errors, in our words (the rest of its 4xx errors cannot reach a request here). */
const FASTIFY_ERRORS: Record<string, { status: number, message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: 'the body is not valid JSON; send one JSON object' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'the body is empty; send a JSON object (or no Content-Type: application/json header)' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'the body must be JSON: send it with Content-Type: application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'the body is not as long as the Content-Length header says' }
}

/** Router limit on one path segment (Fastify's `maxParamLength`, its default). */
export const MAX_PATH_ID_LENGTH = 100

/** What each path id is called, by the segment in front of it (`/api/cron/:id` → "cron job id"). */
const PATH_IDS: Record<string, string> = {
  hooks: 'webhook id',
  webhooks: 'webhook id',
  cron: 'cron job id',
  runs: 'run id',
  chats: 'chat id',
  sessions: 'chat id',
  approvals: 'approval id',
  rules: 'rule id'
}

/** What a pattern of our schemas allows, in words (a pattern not listed is shown as it is). */
const PATTERNS: Record<string, string> = {
  [JOB_ID_PATTERN]: '1-64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit',
  '^-?[A-Za-z0-9_]{1,64}$': 'a Telegram chat id (digits, with a leading - for groups) or a short name of 1-64 letters, digits and _',
  '^[A-Za-z0-9_-]{1,100}$': '1-100 letters, digits, - and _',
  '^[0-9a-f]{32}$': '32 hexadecimal digits (0-9, a-f)',
  '^[0-9a-f]{8}$': '8 hexadecimal digits (0-9, a-f)',
  '^/[A-Za-z0-9/_-]*$': 'a path starting with / (letters, digits, /, - and _)',
  '^https?://': 'an http:// or https:// URL'
}

/** Where an error happened: the matched route's URL and its body limit in bytes. */
export interface ErrorPlace { route?: string | undefined, bodyLimit?: number | undefined }

/** Any error a route, a hook, a parser or the validator threw, as the answer. */
export function describeError (err: unknown, place: ErrorPlace = {}): HttpError {
  const { route, bodyLimit } = place
  if (err instanceof DuctorError) {
    // A full disk is temporary: 503, so that Telegram and webhook senders deliver again later.
    const status = err.code === ErrorCodes.storage && isNoSpace(err) ? 503 : httpStatusByCode[err.code]
    // A storage error is written for the owner ("could not write <path>: EACCES …"): it names the path to fix.
    const hidden = status >= 500 && err.code !== ErrorCodes.storage && err.code !== ErrorCodes.unavailable
    return { status, code: err.code, message: hidden ? 'internal error; see the service log' : err.message }
  }
  const e = err as { code?: unknown, statusCode?: unknown, message?: unknown, validation?: unknown, validationContext?: unknown }
  if (Array.isArray(e.validation)) {
    const context = typeof e.validationContext === 'string' ? e.validationContext : 'body'
    return { status: 400, code: ErrorCodes.badRequest, message: validationMessage(context, e.validation as ValidationIssue[], route) }
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = bodyLimit === undefined ? 'the limit' : `${bodyLimit} bytes${bodyLimit === 1024 * 1024 ? ' (1 MiB)' : ''}`
    return { status: 413, code: ErrorCodes.payloadTooLarge, message: `the request body is larger than this route accepts: at most ${limit}` }
  }
  const known = typeof e.code === 'string' ? FASTIFY_ERRORS[e.code] : undefined
  if (known !== undefined) return { status: known.status, code: codeByStatus[known.status] ?? ErrorCodes.badRequest, message: known.message }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500
  if (status >= 500 || codeByStatus[status] === undefined) return { status: 500, code: ErrorCodes.internal, message: 'internal error; see the service log' }
  // A 4xx that is not ours: secure-json-parse's "forbidden prototype property", a plugin's refusal. A
  // Fastify error's own wording names Fastify's internals: a sentence for its status instead.
  const message = typeof e.message === 'string' && e.message !== '' && !(typeof e.code === 'string' && e.code.startsWith('FST_'))
    ? clientMessage(e.message)
    : `the request was refused (${status})`
  return { status, code: codeByStatus[status], message }
}

function clientMessage (message: string): string {
  return /forbidden prototype property/i.test(message) ? POISONED_BODY : message
}

/** A JSON body with a key that could pollute prototypes (every JSON ingress says the same). */
export const POISONED_BODY = 'the body contains a "__proto__" or "constructor.prototype" key, which is not allowed'

/**
 * The router's own refusals (Fastify's `frameworkErrors`): a path segment longer than the router
 * takes, or a broken %-escape. The id is named by the segment in front of it.
 */
export function describeRouterError (code: string, url: string): HttpError {
  const path = url.split('?')[0] ?? ''
  const segments = path.split('/')
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const at = segments.findIndex((s) => s.length > MAX_PATH_ID_LENGTH)
    const what = at > 0 ? pathId(segments[at - 1] ?? '') : 'a part of the path'
    const length = at >= 0 ? (segments[at] ?? '').length : path.length
    return {
      status: 400,
      code: ErrorCodes.badRequest,
      message: `${what} is ${length} characters long; an id in the path has at most ${MAX_PATH_ID_LENGTH} characters`
    }
  }
  if (code === 'FST_ERR_BAD_URL') {
    const at = segments.findIndex((s) => { try { decodeURIComponent(s); return false } catch { return true } })
    const what = at > 0 ? pathId(segments[at - 1] ?? '') : 'the path'
    return {
      status: 400,
      code: ErrorCodes.badRequest,
      message: `${what} is not valid percent-encoding: each % must be followed by two hexadecimal digits, and the bytes must be UTF-8 text`
    }
  }
  return { status: 400, code: ErrorCodes.badRequest, message: 'the request could not be routed' }
}

function pathId (before: string): string {
  return `the path's ${PATH_IDS[before] ?? 'id'}`
}

export interface ValidationIssue { instancePath: string, keyword: string, params: Record<string, unknown>, message?: string }

/**
 * One sentence for the first field a request got wrong, instead of Ajv's list ("querystring/kind must
 * be equal to constant, … must match a schema in anyOf"): `kind in the query string must be one of
 * chat, cron, webhook, heartbeat`.
 */
export function validationMessage (context: string, issues: readonly ValidationIssue[], route?: string): string {
  const first = issues[0]
  if (first === undefined) return `${context === 'body' ? 'the body' : 'the request'} is not valid`
  const at = issues.filter((i) => i.instancePath === first.instancePath)
  const where = fieldName(context, first.instancePath, route)
  const consts = at.filter((i) => i.keyword === 'const').map((i) => i.params['allowedValue'])
  if (consts.length > 0 && at.some((i) => i.keyword === 'anyOf')) return `${where} must be one of ${consts.map(String).join(', ')}`
  const types = at.filter((i) => i.keyword === 'type').map((i) => String(i.params['type']))
  if (types.length > 0 && at.every((i) => i.keyword === 'type' || i.keyword === 'anyOf')) {
    if (first.instancePath === '' && context === 'body' && types.includes('object')) return 'the body must be a JSON object ({...})'
    return `${where} must be ${types.map(article).join(' or ')}`
  }
  const p = first.params
  const n = (key: string): number => Number(p[key])
  switch (first.keyword) {
    case 'required': {
      const field = fieldName(context, `${first.instancePath}/${String(p['missingProperty'])}`, route)
      return `${field} is missing; it is required`
    }
    case 'additionalProperties': {
      const field = fieldName(context, `${first.instancePath}/${String(p['additionalProperty'])}`, route)
      return `${field} is not a known field (unknown fields are refused, not dropped)`
    }
    case 'enum': return `${where} must be one of ${(p['allowedValues'] as unknown[]).map(String).join(', ')}`
    case 'const': return `${where} must be ${JSON.stringify(p['allowedValue'])}`
    case 'pattern': {
      const pattern = String(p['pattern'])
      return `${where} must be ${PATTERNS[pattern] ?? `text matching the pattern ${pattern}`}`
    }
    case 'minLength': return n('limit') === 1 ? `${where} must not be empty` : `${where} must be at least ${n('limit')} characters`
    case 'maxLength': return `${where} must be at most ${n('limit')} characters`
    case 'minimum': return `${where} must be at least ${n('limit')}`
    case 'maximum': return `${where} must be at most ${n('limit')}`
    case 'exclusiveMinimum': return `${where} must be more than ${n('limit')}`
    case 'exclusiveMaximum': return `${where} must be less than ${n('limit')}`
    case 'minItems': return `${where} must have at least ${n('limit')} item${n('limit') === 1 ? '' : 's'}`
    case 'maxItems': return `${where} must have at most ${n('limit')} items`
    case 'minProperties': return `${where} must have at least ${n('limit')} field${n('limit') === 1 ? '' : 's'}`
    case 'maxProperties': return `${where} must have at most ${n('limit')} fields`
    case 'format': return `${where} must be ${article(String(p['format']))}`
    default: return `${where} ${first.message ?? 'is not valid'}`
  }
}

function article (t: string): string {
  if (t === 'null') return 'null'
  if (t === 'integer' || t === 'array' || t === 'object') return `an ${t}`
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`
}

/**
 * A field as the user sends it: `the path's cron job id`, `limit in the query string`,
 * `schedule in the body` (nested: `payload.items[0] in the body`), `the x-foo header`, `the body`.
 */
export function fieldName (context: string, instancePath: string, route?: string): string {
  const parts = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (context === 'params') {
    const name = parts[0] ?? ''
    const segments = (route ?? '').split('/')
    const at = segments.indexOf(`:${name}`)
    const noun = at > 0 ? PATH_IDS[segments[at - 1] ?? ''] : undefined
    return `the path's ${noun ?? words(name)}`
  }
  const dotted = parts.map((s, i) => /^\d+$/.test(s) ? `[${s}]` : `${i === 0 ? '' : '.'}${s}`).join('')
  if (context === 'querystring') return dotted === '' ? 'the query string' : `${dotted} in the query string`
  if (context === 'headers') return dotted === '' ? 'the headers' : `the ${dotted} header`
  return dotted === '' ? 'the body' : `${dotted} in the body`
}

/** `chatId` → `chat id`, `hook_id` → `hook id`. */
function words (name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase()
}

/** Node's `clientError` listener: answers in our shape (see clientErrorResponse), then drops the connection. */
export function answerClientError (err: NodeJS.ErrnoException, socket: Duplex): void {
  const answer = socket.destroyed ? null : clientErrorResponse(err)
  if (answer !== null && socket.writable) socket.write(answer)
  socket.destroy(err)
}

/**
 * The answer to a request Node's HTTP parser refused before any route saw it (Fastify's
 * `clientErrorHandler`, and the admin listener's `clientError`), as raw HTTP text in our shape; null
 * when nothing can be written (the client reset the connection).
 */
export function clientErrorResponse (err: NodeJS.ErrnoException): string | null {
  if (err.code === 'ECONNRESET') return null
  const [status, reason, message] = err.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', 'the request headers are too large: at most 16 KiB in all']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'the request did not arrive in time; send it again']
      : [400, 'Bad Request', 'the request is not valid HTTP/1.1']
  const body = JSON.stringify({ error: ErrorCodes.badRequest, message })
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`
}

/** The answer while the service stops (instead of Fastify's `return503OnClosing` object). */
/** The 404 of a path nothing here answers (no route, or one served on the other listener, ADR 14); the query string left out. */
export function noRoute (method: string | undefined, url: string | undefined): { error: ErrorCode, message: string } {
  return { error: ErrorCodes.notFound, message: `no route ${method ?? ''} ${(url ?? '').split('?')[0] ?? ''}` }
}

export const SHUTTING_DOWN: HttpError = { status: 503, code: ErrorCodes.unavailable, message: 'ductor is shutting down; send the request again in a moment' }

import { ErrorCodes } from '../errors.ts'
import { POISONED_BODY } from '../http-errors.ts'
import { depthMessage, jsonTooDeep } from '../json-depth.ts'
import type { Hook } from './hook-schema.ts'
import type { RequestHeaders } from './auth-common.ts'
import { verifyHookAuth } from './auth.ts'
import { type ReplayKey, deliveryKeys } from './delivery-id.ts'

export interface IngressConfig {
  /** `webhooks.enabled`. */
  enabled: boolean
  /** `webhooks.max_body_bytes`. */
  max_body_bytes: number
  /** `webhooks.token`: the bearer fallback. */
  token: string
}

export interface IngressRequest {
  hookId: string
  headers: RequestHeaders
  /** The raw body as received (the route must not parse it first). */
  body: Buffer
  contentType: string | undefined
  /** ms since the epoch. */
  now: number
}

export type IngressRejection = {
  ok: false
  status: 400 | 401 | 403 | 404 | 413 | 415
  /** Send `{ error, message }` with `status`; nothing else. */
  error: string
  message: string
  /** For the log line only (why auth failed); never in the HTTP answer. */
  logReason?: string
}

export type IngressAccepted = {
  ok: true
  hook: Readonly<Hook>
  payload: Record<string, unknown>
  /** The sender's delivery id, or null (the caller makes one). */
  deliveryId: string | null
  /** Further dedupe keys (signed content, body window): a later request matching one is a duplicate. */
  replayKeys: ReplayKey[]
  /** Slack's retry number, for the log. */
  retryNum?: string
}

export type IngressResult = IngressRejection | IngressAccepted

/**
 * Decides what to do with `POST /hooks/:hookId` once the rate limit has passed (SPEC §9), in this
 * order: body size (413), webhooks enabled and hook exists (404) and enabled (403), auth (401),
 * JSON content type (415), body is a JSON object (400). Untrusted JSON is parsed only after auth.
 * Pure: reads the store, does no I/O.
 */
export function checkDelivery (
  store: { get: (id: string) => Readonly<Hook> | undefined },
  config: IngressConfig,
  request: IngressRequest
): IngressResult {
  if (request.body.length > config.max_body_bytes) {
    return reject(413, ErrorCodes.payloadTooLarge,
      `the request body is ${request.body.length} bytes; the limit is ${config.max_body_bytes} bytes (webhooks.max_body_bytes)`)
  }
  if (!config.enabled) {
    return reject(403, ErrorCodes.forbidden, 'webhooks are disabled on this server (webhooks.enabled is false)')
  }
  const hook = store.get(request.hookId)
  if (hook === undefined) return reject(404, ErrorCodes.notFound, 'no webhook with this id')
  if (!hook.enabled) return reject(403, ErrorCodes.forbidden, 'this webhook is disabled; enable it to accept deliveries')

  const auth = verifyHookAuth({ hook, globalToken: config.token, headers: request.headers, body: request.body, now: request.now })
  if (!auth.ok) {
    return { ...reject(401, ErrorCodes.unauthorized, 'missing or invalid credentials for this webhook'), logReason: auth.reason }
  }

  if (!isJsonContentType(request.contentType)) {
    return reject(415, ErrorCodes.unsupportedMediaType,
      'the body must be JSON: send Content-Type application/json (optionally with charset=utf-8) or application/*+json')
  }
  const parsed = parseJsonObject(request.body)
  if (!parsed.ok) return reject(400, ErrorCodes.badRequest, parsed.message)
  return { ok: true, hook, payload: parsed.value, ...deliveryKeys(hook, request.headers, request.body, parsed.value) }
}

function reject (status: IngressRejection['status'], error: string, message: string): IngressRejection {
  return { ok: false, status, error, message }
}

/** `application/json` or `application/<anything>+json`; a charset, when given, must be UTF-8. */
export function isJsonContentType (value: string | undefined): boolean {
  if (value === undefined) return false
  const [type = '', ...params] = value.split(';').map((part) => part.trim().toLowerCase())
  if (type !== 'application/json' && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type)) return false
  for (const param of params) {
    const [name, raw = ''] = param.split('=', 2).map((s) => s.trim())
    if (name === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(raw)) return false
  }
  return true
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses the body as one JSON object. Refuses invalid UTF-8, non-objects, and keys that could
 * pollute prototypes if a consumer ever merged the payload: `__proto__` anywhere, and a
 * `constructor` object holding `prototype` (as Fastify's secure-json-parse does by default).
 * The check runs on decoded keys, so `"\u005f_proto__"` is caught too.
 */
function parseJsonObject (body: Buffer): { ok: true, value: Record<string, unknown> } | { ok: false, message: string } {
  let text: string
  try {
    text = decoder.decode(body)
  } catch {
    return { ok: false, message: 'the body is not valid UTF-8 text' }
  }
  if (text.trim() === '') return { ok: false, message: 'the body is empty; send a JSON object' }
  if (jsonTooDeep(text)) return { ok: false, message: depthMessage('the body') }
  let poisoned = false
  let value: unknown
  try {
    // The key check needs a reviver, which makes parsing several times slower; a text that holds
    // neither key nor any \u escape (which could spell one) cannot contain them, so it skips it.
    value = !text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')
      ? JSON.parse(text)
      : JSON.parse(text, function (this: unknown, key: string, child: unknown) {
        if (key === '__proto__') poisoned = true
        if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) poisoned = true
        return child
      })
  } catch {
    // The parser's message may quote the body; it is not repeated back.
    return { ok: false, message: 'the body is not valid JSON; send one JSON object' }
  }
  if (poisoned) return { ok: false, message: POISONED_BODY }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `the body must be a JSON object ({...}), not ${describe(value)}` }
  }
  return { ok: true, value: value as Record<string, unknown> }
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

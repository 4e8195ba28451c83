/** Sorts Bot API failures into what the streaming editor does about them. */
export type ApiFailure =
  | { kind: 'rate_limited', retryAfterMs: number }
  | { kind: 'not_modified' }
  | { kind: 'not_found' }
  | { kind: 'bad_html', description: string }
  | { kind: 'too_long' }
  | { kind: 'failed', description: string }

interface BotApiErrorShape {
  error_code?: unknown
  description?: unknown
  message?: unknown
  parameters?: { retry_after?: unknown }
}

export function classifyApiError (err: unknown): ApiFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as BotApiErrorShape
  const description = typeof e.description === 'string'
    ? e.description
    : typeof e.message === 'string' ? e.message : String(err)
  const retryAfter = e.parameters?.retry_after
  if (e.error_code === 429 || typeof retryAfter === 'number') {
    return { kind: 'rate_limited', retryAfterMs: (typeof retryAfter === 'number' ? retryAfter : 1) * 1000 }
  }
  if (/message is not modified/i.test(description)) return { kind: 'not_modified' }
  if (/message to (?:edit|delete) not found|MESSAGE_ID_INVALID/i.test(description)) return { kind: 'not_found' }
  if (/can't parse entities/i.test(description)) return { kind: 'bad_html', description }
  if (/message is too long|MESSAGE_TOO_LONG/i.test(description)) return { kind: 'too_long' }
  return { kind: 'failed', description }
}

/** Thrown inside the editor to stop a flush until `retryAfterMs` has passed. */
export class RateLimitedError extends Error {
  readonly retryAfterMs: number
  constructor (retryAfterMs: number) {
    super(`rate limited for ${retryAfterMs} ms`)
    this.retryAfterMs = retryAfterMs
  }
}

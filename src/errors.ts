/**
 * Domain errors with stable codes. The HTTP layer maps `code` to a status once (src/app.ts);
 * the Telegram layer shows `message`. Neither ever shows a stack.
 */
export const ErrorCodes = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  rateLimited: 'rate_limited',
  internal: 'internal_error',
  unavailable: 'unavailable',
  invalidConfig: 'invalid_config',
  storage: 'storage_error'
} as const

export type ErrorCode = typeof ErrorCodes[keyof typeof ErrorCodes]

export class DuctorError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DuctorError'
    this.code = code
  }
}

/**
 * A file the user writes (`config.json`, `cron_jobs.json`, `webhooks.json`) that cannot be used as it
 * is: the service refuses to start (exit 2) with one line naming the file, line and column, and never
 * replaces the file (ADR 0017). Files only ductor writes are moved aside instead (SPEC §11).
 */
export class UserFileError extends Error {
  readonly path: string

  constructor (path: string, message: string) {
    super(message)
    this.name = 'UserFileError'
    this.path = path
  }
}

export const httpStatusByCode: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
  invalid_config: 400,
  storage_error: 500
}

/**
 * Whether an error (or one it wraps) is a full disk or quota (ENOSPC, EDQUOT). Such a storage error
 * answers 503 with Retry-After rather than 500: it is temporary, and the senders that matter
 * (Telegram, webhook senders) deliver again after a 503, once the owner has made room.
 */
export function isNoSpace (err: unknown): boolean {
  for (let e = err, depth = 0; e != null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOSPC' || code === 'EDQUOT') return true
  }
  return false
}

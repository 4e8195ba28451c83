import { createHmac } from 'node:crypto'
import { digestEqual, safeEqual } from '../safe-equal.ts'

export { digestEqual, safeEqual }
import type { Hook } from './hook-schema.ts'

/** Request headers as Node gives them: lower-cased names; a repeated header may be an array. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

/** The reason is for logs only; the HTTP answer stays a generic 401. It never contains a secret. */
export type AuthResult = { ok: true } | { ok: false, reason: string }

export interface AuthInput {
  hook: Hook
  /** `webhooks.token` from the config: the bearer fallback for hooks without their own token. */
  globalToken: string
  headers: RequestHeaders
  /** The raw request body, exactly as received: signatures are over bytes, not parsed JSON. */
  body: Buffer
  /** Milliseconds since the epoch, for timestamp tolerance. */
  now: number
}

export type HmacAlgorithm = 'sha256' | 'sha1' | 'sha512'

export const OK: AuthResult = Object.freeze({ ok: true })
export const fail = (reason: string): AuthResult => ({ ok: false, reason })

/**
 * True when the computed digest `expected` equals any of the signatures `given` (`digestEqual` each).
 * Every entry is compared (no early exit), so the time taken does not reveal which one matched.
 */
export function digestEqualAny (expected: string, given: readonly string[]): boolean {
  let found = false
  for (const value of given) found = digestEqual(value, expected) || found
  return found
}

export function hmacDigest (algorithm: HmacAlgorithm, key: string | Buffer, parts: ReadonlyArray<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

/**
 * One header value. Absent → `undefined`. Sent more than once (an array with several entries) →
 * `null`: a signature or token header has exactly one value, and guessing which copy counts would
 * let a sender smuggle one past the check.
 */
export function singleHeader (headers: RequestHeaders, name: string): string | undefined | null {
  const value = headers[name.toLowerCase()]
  if (Array.isArray(value)) return value.length === 1 ? value[0] : (value.length === 0 ? undefined : null)
  return value
}

/** Reads a required single-valued header, or explains why it cannot be used. */
export function requireHeader (headers: RequestHeaders, name: string): { value: string } | { reason: string } {
  const value = singleHeader(headers, name)
  if (value === null) return { reason: `header ${name} sent more than once` }
  if (value === undefined || value === '') return { reason: `header ${name} missing` }
  return { value }
}

/** Seconds since the epoch as sent by a signer: digits only, nothing else. */
export function parseUnixSeconds (value: string): number | null {
  return /^\d{1,12}$/.test(value) ? Number(value) : null
}

/**
 * A signed timestamp must be within `tolerance` seconds of now, either way, so a captured request
 * cannot be replayed later (and a clock far ahead is refused too).
 */
export function checkTimestamp (seconds: number, now: number, toleranceSeconds: number): AuthResult {
  const skew = Math.abs(now / 1000 - seconds)
  return skew <= toleranceSeconds ? OK : fail(`timestamp outside tolerance (${Math.round(skew)} s > ${toleranceSeconds} s)`)
}

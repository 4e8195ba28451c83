import {
  type AuthInput, type AuthResult, checkTimestamp, fail, hmacDigest, parseUnixSeconds, requireHeader, digestEqualAny
} from './auth-common.ts'

/** Signatures one `webhook-signature` header may list; more is not a real sender. */
const MAX_SIGNATURES = 16
const MAX_ID_LENGTH = 256

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_<base64>` (the prefix is optional, as in the
 * reference libraries), base64-decoded. `null` when it is not valid base64 or decodes to nothing.
 */
export function decodeStandardSecret (secret: string): Buffer | null {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.replace(/=+$/, '').length % 4 === 1) return null
  const key = Buffer.from(encoded, 'base64')
  return key.length === 0 ? null : key
}

/**
 * Standard Webhooks (standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` (unix
 * seconds) and `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256>` entries; other
 * versions are ignored). Signed content is `<id>.<timestamp>.<body>`; any `v1` may match; the
 * timestamp must be within the hook's tolerance (default 300 s) in either direction.
 */
export function verifyStandard ({ hook, headers, body, now }: AuthInput): AuthResult {
  const key = decodeStandardSecret(hook.hmac_secret)
  if (key === null) return fail('hmac_secret is not a valid Standard Webhooks secret')
  const id = requireHeader(headers, 'webhook-id')
  if ('reason' in id) return fail(id.reason)
  if (id.value.length > MAX_ID_LENGTH) return fail('webhook-id is too long')
  const timestamp = requireHeader(headers, 'webhook-timestamp')
  if ('reason' in timestamp) return fail(timestamp.reason)
  const seconds = parseUnixSeconds(timestamp.value)
  if (seconds === null) return fail('webhook-timestamp is not a number')
  const header = requireHeader(headers, 'webhook-signature')
  if ('reason' in header) return fail(header.reason)

  const signatures: string[] = []
  for (const entry of header.value.split(' ')) {
    const comma = entry.indexOf(',')
    if (comma > 0 && entry.slice(0, comma) === 'v1') signatures.push(entry.slice(comma + 1))
  }
  if (signatures.length === 0) return fail('webhook-signature has no v1 signature')
  if (signatures.length > MAX_SIGNATURES) return fail('webhook-signature has too many signatures')

  const expected = hmacDigest('sha256', key, [id.value, '.', timestamp.value, '.', body]).toString('base64')
  if (!digestEqualAny(expected, signatures)) return fail('standard webhooks signature mismatch')
  return checkTimestamp(seconds, now, hook.timestamp_tolerance_seconds)
}

import {
  type AuthInput, type AuthResult, OK, checkTimestamp, fail, hmacDigest, parseUnixSeconds, requireHeader,
  digestEqual, digestEqualAny
} from './auth-common.ts'

/** Signatures a Stripe header may carry; more is not a real Stripe request. */
const MAX_STRIPE_SIGNATURES = 16

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. */
export function verifyGithub ({ hook, headers, body }: AuthInput): AuthResult {
  if (hook.hmac_secret === '') return fail('hmac_secret not configured')
  const header = requireHeader(headers, 'x-hub-signature-256')
  if ('reason' in header) return fail(header.reason)
  const expected = 'sha256=' + hmacDigest('sha256', hook.hmac_secret, [body]).toString('hex')
  return digestEqual(header.value, expected) ? OK : fail('github signature mismatch')
}

/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (other schemes such as `v0` are
 * ignored). Signed content is `<t>.<body>`, keyed with the whole signing secret (`whsec_…` as is).
 * Any `v1` may match (Stripe sends several while a secret is being rolled); `t` must be within the
 * hook's tolerance.
 */
export function verifyStripe ({ hook, headers, body, now }: AuthInput): AuthResult {
  if (hook.hmac_secret === '') return fail('hmac_secret not configured')
  const header = requireHeader(headers, 'stripe-signature')
  if ('reason' in header) return fail(header.reason)
  let timestamp: string | undefined
  const signatures: string[] = []
  for (const item of header.value.split(',')) {
    const eq = item.indexOf('=')
    if (eq < 0) continue
    const key = item.slice(0, eq).trim()
    const value = item.slice(eq + 1).trim()
    if (key === 't') {
      if (timestamp !== undefined) return fail('stripe-signature has more than one timestamp')
      timestamp = value
    } else if (key === 'v1' && value !== '') {
      signatures.push(value)
    }
  }
  if (timestamp === undefined) return fail('stripe-signature has no timestamp')
  const seconds = parseUnixSeconds(timestamp)
  if (seconds === null) return fail('stripe-signature timestamp is not a number')
  if (signatures.length === 0) return fail('stripe-signature has no v1 signature')
  if (signatures.length > MAX_STRIPE_SIGNATURES) return fail('stripe-signature has too many signatures')
  const expected = hmacDigest('sha256', hook.hmac_secret, [timestamp, '.', body]).toString('hex')
  if (!digestEqualAny(expected, signatures)) return fail('stripe signature mismatch')
  return checkTimestamp(seconds, now, hook.timestamp_tolerance_seconds)
}

/**
 * Slack: `X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`, keyed with the
 * signing secret; the timestamp must be within the hook's tolerance.
 */
export function verifySlack ({ hook, headers, body, now }: AuthInput): AuthResult {
  if (hook.hmac_secret === '') return fail('hmac_secret not configured')
  const signature = requireHeader(headers, 'x-slack-signature')
  if ('reason' in signature) return fail(signature.reason)
  const timestamp = requireHeader(headers, 'x-slack-request-timestamp')
  if ('reason' in timestamp) return fail(timestamp.reason)
  const seconds = parseUnixSeconds(timestamp.value)
  if (seconds === null) return fail('x-slack-request-timestamp is not a number')
  const expected = 'v0=' + hmacDigest('sha256', hook.hmac_secret, ['v0:', timestamp.value, ':', body]).toString('hex')
  if (!digestEqual(signature.value, expected)) return fail('slack signature mismatch')
  return checkTimestamp(seconds, now, hook.timestamp_tolerance_seconds)
}

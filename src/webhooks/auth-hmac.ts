import { type AuthInput, type AuthResult, OK, fail, hmacDigest, requireHeader, digestEqual } from './auth-common.ts'
import { compileConfigRegex, firstGroup } from './config-regex.ts'

/**
 * The original's configurable HMAC (`auth_mode: "hmac"` without a preset), kept so existing
 * `webhooks.json` files work unchanged:
 * - the signature header is `hmac_header`;
 * - the signature is group 1 of `hmac_sig_regex` when set, else the value with `hmac_sig_prefix`
 *   removed when it starts with it (else the value as is);
 * - when `hmac_payload_prefix_regex` matches the header, its group 1 and `.` are signed before the body;
 * - HMAC-`hmac_algorithm` keyed with `hmac_secret` (its UTF-8 bytes), encoded `hmac_encoding`.
 * The encoded strings are compared in constant time, exactly as the original compared them.
 */
export function verifyGenericHmac ({ hook, headers, body }: AuthInput): AuthResult {
  if (hook.hmac_secret === '') return fail('hmac_secret not configured')
  if (hook.hmac_header === '') return fail('hmac_header not configured')
  const header = requireHeader(headers, hook.hmac_header)
  if ('reason' in header) return fail(header.reason)

  let signature: string
  if (hook.hmac_sig_regex !== '') {
    const regex = compileConfigRegex(hook.hmac_sig_regex)
    if (regex === null) return fail('hmac_sig_regex is not a valid regular expression')
    const group = firstGroup(regex, header.value)
    if (group === null) return fail('hmac_sig_regex did not match the signature header')
    signature = group
  } else if (hook.hmac_sig_prefix !== '' && header.value.startsWith(hook.hmac_sig_prefix)) {
    signature = header.value.slice(hook.hmac_sig_prefix.length)
  } else {
    signature = header.value
  }

  const parts: Array<string | Buffer> = []
  if (hook.hmac_payload_prefix_regex !== '') {
    const regex = compileConfigRegex(hook.hmac_payload_prefix_regex)
    if (regex === null) return fail('hmac_payload_prefix_regex is not a valid regular expression')
    const prefix = firstGroup(regex, header.value)
    if (prefix !== null) parts.push(prefix, '.')
  }
  parts.push(body)

  const digest = hmacDigest(hook.hmac_algorithm, hook.hmac_secret, parts)
  const expected = digest.toString(hook.hmac_encoding === 'base64' ? 'base64' : 'hex')
  return digestEqual(signature, expected) ? OK : fail(`signature mismatch (${hook.hmac_algorithm}, ${hook.hmac_encoding})`)
}

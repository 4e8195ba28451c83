import { bearerToken } from '../bearer.ts'
import { type AuthInput, type AuthResult, OK, fail, safeEqual, singleHeader } from './auth-common.ts'

/**
 * `Authorization: Bearer <token>` with the hook's token, or the global `webhooks.token` when the
 * hook has none (SPEC §9). The scheme name is case-insensitive (RFC 9110 §11.1).
 */
export function verifyBearer ({ hook, globalToken, headers }: AuthInput): AuthResult {
  const expected = hook.token !== '' ? hook.token : globalToken
  if (expected === '') return fail('no token configured for this hook and no global webhooks.token')
  const header = singleHeader(headers, 'authorization')
  if (header === null) return fail('header authorization sent more than once')
  if (header === undefined || header === '') return fail('header authorization missing')
  const token = bearerToken(header)
  if (token === null) return fail('authorization is not "Bearer <token>"')
  return safeEqual(token, expected) ? OK : fail('bearer token does not match')
}

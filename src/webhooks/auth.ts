import type { AuthInput, AuthResult } from './auth-common.ts'
import { fail } from './auth-common.ts'
import { verifyBearer } from './auth-bearer.ts'
import { verifyGenericHmac } from './auth-hmac.ts'
import { verifyGithub, verifySlack, verifyStripe } from './auth-presets.ts'
import { verifyStandard } from './auth-standard.ts'

export type { AuthInput, AuthResult, RequestHeaders } from './auth-common.ts'
export { safeEqual } from './auth-common.ts'

/**
 * Checks one request against its hook's scheme. Pure: no I/O, the clock is `input.now`.
 * - `bearer`: the hook token, falling back to the global token;
 * - `hmac` with `hmac_preset` (`github`, `stripe`, `slack`): the service's own scheme, ignoring the
 *   generic knobs; without a preset: the generic knobs (header, prefix/regex, algorithm, encoding);
 * - `standard`: Standard Webhooks.
 * Never throws on anything a request or a hook file can contain.
 */
export function verifyHookAuth (input: AuthInput): AuthResult {
  try {
    switch (input.hook.auth_mode) {
      case 'bearer': return verifyBearer(input)
      case 'standard': return verifyStandard(input)
      case 'hmac':
        switch (input.hook.hmac_preset) {
          case 'github': return verifyGithub(input)
          case 'stripe': return verifyStripe(input)
          case 'slack': return verifySlack(input)
          case null: return verifyGenericHmac(input)
        }
    }
    return fail('unknown auth configuration')
  } catch (err) {
    // Defence in depth: a verifier bug must refuse the request, not crash the route.
    return fail(`verifier error: ${(err as Error).message}`)
  }
}

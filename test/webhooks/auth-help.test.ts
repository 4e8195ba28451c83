import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authHelp } from '../../src/webhooks/auth-help.ts'
import { makeHook } from './helpers.ts'

test('auth help names the header and how to sign for every scheme, and never contains a secret', () => {
  const secret = 'super-secret-value-0123456789'
  const cases: Array<[Record<string, unknown>, string, string, RegExp]> = [
    [{ auth_mode: 'bearer', token: secret }, 'bearer', 'Authorization', /Bearer <token>/],
    [{ auth_mode: 'bearer', token: '' }, 'bearer', 'Authorization', /global webhooks\.token/],
    [{ auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: secret }, 'hmac:github', 'X-Hub-Signature-256', /application\/json/],
    [{ auth_mode: 'hmac', hmac_preset: 'stripe', hmac_secret: secret }, 'hmac:stripe', 'Stripe-Signature', /t=<ts>,v1=<hex>/],
    [{ auth_mode: 'hmac', hmac_preset: 'slack', hmac_secret: secret }, 'hmac:slack', 'X-Slack-Signature', /v0:<X-Slack-Request-Timestamp>/],
    [{ auth_mode: 'hmac', hmac_secret: secret, hmac_header: 'X-Sig', hmac_algorithm: 'sha512', hmac_encoding: 'base64', hmac_sig_prefix: '' }, 'hmac', 'X-Sig', /HMAC-SHA512.*"X-Sig: <base64 signature>"/],
    [{ auth_mode: 'standard', hmac_secret: 'whsec_' + Buffer.from(secret).toString('base64') }, 'standard', 'webhook-signature', /v1,<base64/]
  ]
  for (const [fields, scheme, header, instructions] of cases) {
    const help = authHelp(makeHook(fields))
    assert.equal(help.scheme, scheme)
    assert.equal(help.header, header)
    assert.match(help.instructions, instructions)
    assert.ok(!JSON.stringify(help).includes(secret), `${scheme}: no secret`)
  }
})

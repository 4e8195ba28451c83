import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { verifyHookAuth, safeEqual } from '../../src/webhooks/auth.ts'
import { digestEqual } from '../../src/safe-equal.ts'
import type { AuthInput, RequestHeaders } from '../../src/webhooks/auth.ts'
import { makeHook, alterOneChar } from './helpers.ts'

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0)
const NOW_S = Math.floor(NOW / 1000)

function input (hook: Record<string, unknown>, headers: RequestHeaders, body: string | Buffer, extra: Partial<AuthInput> = {}): AuthInput {
  return { hook: makeHook(hook), globalToken: '', headers, body: Buffer.from(body), now: NOW, ...extra }
}

function alterBody (body: string): Buffer {
  const buf = Buffer.from(body)
  buf[0] = (buf[0] ?? 0) ^ 1
  return buf
}

function assertRefused (result: ReturnType<typeof verifyHookAuth>, reason?: RegExp): void {
  assert.equal(result.ok, false)
  if (reason !== undefined && !result.ok) assert.match(result.reason, reason)
}

describe('bearer', () => {
  const hook = { auth_mode: 'bearer', token: 'hook-token-123' }

  test('accepts the hook token and refuses anything else', () => {
    assert.deepEqual(verifyHookAuth(input(hook, { authorization: 'Bearer hook-token-123' }, '{}')), { ok: true })
    assert.deepEqual(verifyHookAuth(input(hook, { authorization: 'bearer hook-token-123' }, '{}')), { ok: true })
    assertRefused(verifyHookAuth(input(hook, { authorization: 'Bearer hook-token-124' }, '{}')), /does not match/)
    assertRefused(verifyHookAuth(input(hook, { authorization: 'Bearer hook-token-12' }, '{}')), /does not match/)
    assertRefused(verifyHookAuth(input(hook, { authorization: 'Bearer hook-token-1234' }, '{}')), /does not match/)
    assertRefused(verifyHookAuth(input(hook, { authorization: 'Basic hook-token-123' }, '{}')), /Bearer/)
    assertRefused(verifyHookAuth(input(hook, { authorization: 'hook-token-123' }, '{}')), /Bearer/)
    assertRefused(verifyHookAuth(input(hook, {}, '{}')), /missing/)
  })

  test('the global token is a fallback only for hooks without a token', () => {
    const withGlobal = { globalToken: 'global-token' }
    assert.equal(verifyHookAuth(input({ auth_mode: 'bearer', token: '' }, { authorization: 'Bearer global-token' }, '{}', withGlobal)).ok, true)
    assert.equal(verifyHookAuth(input(hook, { authorization: 'Bearer global-token' }, '{}', withGlobal)).ok, false)
  })

  test('no token anywhere refuses everything, even an empty bearer', () => {
    assertRefused(verifyHookAuth(input({ token: '' }, { authorization: 'Bearer ' }, '{}')), /no token configured/)
    assertRefused(verifyHookAuth(input({ token: '' }, { authorization: 'Bearer x' }, '{}')), /no token configured/)
  })

  test('a duplicated authorization header is refused without crashing', () => {
    const headers = { authorization: ['Bearer hook-token-123', 'Bearer other'] }
    assertRefused(verifyHookAuth(input(hook, headers, '{}')), /more than once/)
    assert.equal(verifyHookAuth(input(hook, { authorization: ['Bearer hook-token-123'] }, '{}')).ok, true)
  })

  test('the refusal reason never contains the token', () => {
    const result = verifyHookAuth(input(hook, { authorization: 'Bearer wrong' }, '{}'))
    assert.equal(result.ok, false)
    if (!result.ok) assert.doesNotMatch(result.reason, /hook-token-123|wrong/)
  })
})

describe('github preset (published vector)', () => {
  const hook = { auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: "It's a Secret to Everybody" }
  const body = 'Hello, World!'
  const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'

  test('the documented signature verifies', () => {
    assert.deepEqual(verifyHookAuth(input(hook, { 'x-hub-signature-256': signature }, body)), { ok: true })
  })

  test('one altered byte in the signature, the body or the secret is refused', () => {
    for (let i = 'sha256='.length; i < signature.length; i += 9) {
      assertRefused(verifyHookAuth(input(hook, { 'x-hub-signature-256': alterOneChar(signature, i) }, body)), /mismatch/)
    }
    assertRefused(verifyHookAuth(input(hook, { 'x-hub-signature-256': signature }, alterBody(body))))
    assertRefused(verifyHookAuth(input({ ...hook, hmac_secret: "It's a Secret to Everybody!" }, { 'x-hub-signature-256': signature }, body)))
    assertRefused(verifyHookAuth(input(hook, { 'x-hub-signature-256': signature.toUpperCase() }, body)))
  })

  test('a missing, truncated, unprefixed or duplicated header is refused', () => {
    assertRefused(verifyHookAuth(input(hook, {}, body)), /missing/)
    assertRefused(verifyHookAuth(input(hook, { 'x-hub-signature-256': signature.slice(0, -2) }, body)))
    assertRefused(verifyHookAuth(input(hook, { 'x-hub-signature-256': signature.slice('sha256='.length) }, body)))
    assertRefused(verifyHookAuth(input(hook, { 'x-hub-signature-256': [signature, signature] }, body)), /more than once/)
  })

  test('without a secret nothing verifies', () => {
    assertRefused(verifyHookAuth(input({ ...hook, hmac_secret: '' }, { 'x-hub-signature-256': signature }, body)), /not configured/)
  })
})

describe('standard webhooks (published vector)', () => {
  const hook = { auth_mode: 'standard', hmac_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }
  const body = '{"test": 2432232314}'
  const ts = 1614265330
  const headers = {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': String(ts),
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
  }
  const at = (seconds: number) => ({ now: seconds * 1000 })

  test('the documented signature verifies near its timestamp', () => {
    assert.deepEqual(verifyHookAuth(input(hook, headers, body, at(ts + 10))), { ok: true })
    assert.equal(verifyHookAuth(input(hook, headers, body, at(ts - 299))).ok, true)
  })

  test('the secret prefix is optional, as in the reference libraries', () => {
    assert.equal(verifyHookAuth(input({ ...hook, hmac_secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, headers, body, at(ts))).ok, true)
  })

  test('any v1 entry among several may match; other versions are ignored', () => {
    const several = { ...headers, 'webhook-signature': `v1a,abc v1,Zm9vYmFy ${headers['webhook-signature']}` }
    assert.equal(verifyHookAuth(input(hook, several, body, at(ts))).ok, true)
    const onlyOthers = { ...headers, 'webhook-signature': 'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }
    assertRefused(verifyHookAuth(input(hook, onlyOthers, body, at(ts))), /no v1/)
  })

  test('a replay older than the tolerance, or a timestamp too far ahead, is refused', () => {
    assertRefused(verifyHookAuth(input(hook, headers, body, at(ts + 301))), /tolerance/)
    assertRefused(verifyHookAuth(input(hook, headers, body, at(ts - 301))), /tolerance/)
    assert.equal(verifyHookAuth(input({ ...hook, timestamp_tolerance_seconds: 3600 }, headers, body, at(ts + 3000))).ok, true)
  })

  test('one altered byte anywhere is refused', () => {
    const sig = headers['webhook-signature']
    for (let i = 3; i < sig.length - 1; i += 7) {
      assertRefused(verifyHookAuth(input(hook, { ...headers, 'webhook-signature': alterOneChar(sig, i) }, body, at(ts))))
    }
    assertRefused(verifyHookAuth(input(hook, headers, alterBody(body), at(ts))))
    assertRefused(verifyHookAuth(input(hook, { ...headers, 'webhook-id': alterOneChar(headers['webhook-id']) }, body, at(ts))))
    assertRefused(verifyHookAuth(input(hook, { ...headers, 'webhook-timestamp': String(ts + 1) }, body, at(ts))))
    assertRefused(verifyHookAuth(input({ ...hook, hmac_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx' }, headers, body, at(ts))))
  })

  test('missing or malformed headers and secrets are refused without crashing', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _dropped, ...rest } = headers
      assertRefused(verifyHookAuth(input(hook, rest, body, at(ts))), /missing/)
      assertRefused(verifyHookAuth(input(hook, { ...headers, [name]: [headers[name], headers[name]] }, body, at(ts))), /more than once/)
    }
    assertRefused(verifyHookAuth(input(hook, { ...headers, 'webhook-timestamp': '1614265330.5' }, body, at(ts))), /not a number/)
    assertRefused(verifyHookAuth(input(hook, { ...headers, 'webhook-signature': 'garbage' }, body, at(ts))), /no v1/)
    assertRefused(verifyHookAuth(input({ ...hook, hmac_secret: 'whsec_***not base64***' }, headers, body, at(ts))), /secret/)
    assertRefused(verifyHookAuth(input({ ...hook, hmac_secret: '' }, headers, body, at(ts))), /secret/)
  })
})

describe('stripe preset', () => {
  const secret = 'whsec_test_secret'
  const hook = { auth_mode: 'hmac', hmac_preset: 'stripe', hmac_secret: secret }
  const body = '{"id":"evt_1","type":"payment_intent.succeeded"}'
  const sign = (t: number, key = secret) => createHmac('sha256', key).update(`${t}.${body}`).digest('hex')

  test('a signature over "t.body" with the whole secret as key verifies', () => {
    const header = `t=${NOW_S},v1=${sign(NOW_S)}`
    assert.deepEqual(verifyHookAuth(input(hook, { 'stripe-signature': header }, body)), { ok: true })
  })

  test('any v1 may match (secret rolling); v0 entries are ignored', () => {
    const header = `t=${NOW_S},v1=${sign(NOW_S, 'old')},v0=${sign(NOW_S)},v1=${sign(NOW_S)}`
    assert.equal(verifyHookAuth(input(hook, { 'stripe-signature': header }, body)).ok, true)
    const onlyV0 = `t=${NOW_S},v0=${sign(NOW_S)}`
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': onlyV0 }, body)), /no v1/)
  })

  test('a timestamp outside the tolerance is refused even with a valid signature', () => {
    const old = NOW_S - 301
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': `t=${old},v1=${sign(old)}` }, body)), /tolerance/)
    const edge = NOW_S - 300
    assert.equal(verifyHookAuth(input(hook, { 'stripe-signature': `t=${edge},v1=${sign(edge)}` }, body)).ok, true)
  })

  test('altered signature, body or timestamp is refused', () => {
    const sig = sign(NOW_S)
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': `t=${NOW_S},v1=${alterOneChar(sig, 5)}` }, body)), /mismatch/)
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': `t=${NOW_S},v1=${sig}` }, alterBody(body))), /mismatch/)
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': `t=${NOW_S + 1},v1=${sig}` }, body)), /mismatch/)
  })

  test('malformed headers are refused', () => {
    const sig = sign(NOW_S)
    for (const header of ['', 'garbage', `v1=${sig}`, `t=abc,v1=${sig}`, `t=${NOW_S},t=${NOW_S},v1=${sig}`, `t=${NOW_S}`]) {
      assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': header }, body)))
    }
  })
})

describe('slack preset', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5'
  const hook = { auth_mode: 'hmac', hmac_preset: 'slack', hmac_secret: secret }
  const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather'
  const sign = (t: number) => 'v0=' + createHmac('sha256', secret).update(`v0:${t}:${body}`).digest('hex')
  const headers = (t: number, sig = sign(t)) => ({ 'x-slack-signature': sig, 'x-slack-request-timestamp': String(t) })

  test('a signature over "v0:ts:body" verifies', () => {
    assert.deepEqual(verifyHookAuth(input(hook, headers(NOW_S), body)), { ok: true })
  })

  test('stale timestamps, altered bytes and missing headers are refused', () => {
    assertRefused(verifyHookAuth(input(hook, headers(NOW_S - 600), body)), /tolerance/)
    assertRefused(verifyHookAuth(input(hook, headers(NOW_S, alterOneChar(sign(NOW_S), 10)), body)), /mismatch/)
    assertRefused(verifyHookAuth(input(hook, headers(NOW_S), alterBody(body))), /mismatch/)
    assertRefused(verifyHookAuth(input(hook, { ...headers(NOW_S), 'x-slack-request-timestamp': String(NOW_S + 1) }, body)), /mismatch/)
    assertRefused(verifyHookAuth(input(hook, { 'x-slack-signature': sign(NOW_S) }, body)), /missing/)
    assertRefused(verifyHookAuth(input(hook, { 'x-slack-request-timestamp': String(NOW_S) }, body)), /missing/)
  })
})

describe('generic hmac (compatibility with the original files)', () => {
  const body = '{"action":"opened"}'
  const hex = (algorithm: string, key: string, data: string) => createHmac(algorithm, key).update(data).digest('hex')
  const b64 = (algorithm: string, key: string, data: string) => createHmac(algorithm, key).update(data).digest('base64')
  const base = { auth_mode: 'hmac', hmac_secret: 's3cret', hmac_header: 'X-Signature' }

  test('defaults: sha256, hex, prefix "sha256=" stripped', () => {
    const sig = hex('sha256', 's3cret', body)
    assert.equal(verifyHookAuth(input(base, { 'x-signature': `sha256=${sig}` }, body)).ok, true)
    // The original strips the prefix only when present, so a bare signature also verifies.
    assert.equal(verifyHookAuth(input(base, { 'x-signature': sig }, body)).ok, true)
    assertRefused(verifyHookAuth(input(base, { 'x-signature': `sha256=${alterOneChar(sig)}` }, body)), /mismatch/)
    assertRefused(verifyHookAuth(input(base, { 'x-signature': `sha256=${sig}` }, alterBody(body))), /mismatch/)
  })

  test('the header name is matched case-insensitively', () => {
    const sig = hex('sha256', 's3cret', body)
    assert.equal(verifyHookAuth(input({ ...base, hmac_header: 'x-SIGNATURE' }, { 'x-signature': sig }, body)).ok, true)
  })

  test('sha1 and sha512, hex and base64', () => {
    for (const algorithm of ['sha1', 'sha512', 'sha256']) {
      const hook = { ...base, hmac_algorithm: algorithm, hmac_sig_prefix: '' }
      assert.equal(verifyHookAuth(input(hook, { 'x-signature': hex(algorithm, 's3cret', body) }, body)).ok, true, algorithm)
      const asB64 = { ...hook, hmac_encoding: 'base64' }
      assert.equal(verifyHookAuth(input(asB64, { 'x-signature': b64(algorithm, 's3cret', body) }, body)).ok, true, `${algorithm} base64`)
      assertRefused(verifyHookAuth(input(asB64, { 'x-signature': hex(algorithm, 's3cret', body) }, body)))
      const other = algorithm === 'sha1' ? 'sha512' : 'sha1'
      assertRefused(verifyHookAuth(input(hook, { 'x-signature': hex(other, 's3cret', body) }, body)))
    }
  })

  test('a custom prefix is stripped', () => {
    const hook = { ...base, hmac_algorithm: 'sha1', hmac_sig_prefix: 'sha1=' }
    assert.equal(verifyHookAuth(input(hook, { 'x-signature': `sha1=${hex('sha1', 's3cret', body)}` }, body)).ok, true)
  })

  test('hmac_sig_regex group 1 is the signature; the payload prefix regex signs "t.body" (Stripe via knobs)', () => {
    const t = '1700000000'
    const sig = hex('sha256', 's3cret', `${t}.${body}`)
    const hook = {
      ...base,
      hmac_header: 'Stripe-Signature',
      hmac_sig_prefix: '',
      hmac_sig_regex: 'v1=([a-f0-9]+)',
      hmac_payload_prefix_regex: 't=(\\d+)'
    }
    assert.equal(verifyHookAuth(input(hook, { 'stripe-signature': `t=${t},v1=${sig}` }, body)).ok, true)
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': `t=1700000001,v1=${sig}` }, body)), /mismatch/)
    assertRefused(verifyHookAuth(input(hook, { 'stripe-signature': `t=${t},v2=${sig}` }, body)), /did not match/)
    // Without a match of the payload prefix regex, the body alone is signed (as in the original).
    const plain = hex('sha256', 's3cret', body)
    assert.equal(verifyHookAuth(input(hook, { 'stripe-signature': `v1=${plain}` }, body)).ok, true)
  })

  test('Python named groups and inline flags in regexes are understood', () => {
    const sig = hex('sha256', 's3cret', body)
    const hook = { ...base, hmac_sig_prefix: '', hmac_sig_regex: '(?i)SIG=(?P<sig>[a-f0-9]+)' }
    assert.equal(verifyHookAuth(input(hook, { 'x-signature': `sig=${sig}` }, body)).ok, true)
  })

  test('malformed regexes and regexes without a group refuse instead of crashing', () => {
    const sig = hex('sha256', 's3cret', body)
    for (const field of ['hmac_sig_regex', 'hmac_payload_prefix_regex']) {
      for (const bad of ['(unclosed', '[z-a]', '(?x)verbose', '*oops']) {
        assertRefused(verifyHookAuth(input({ ...base, [field]: bad }, { 'x-signature': `sha256=${sig}` }, body)), /regular expression/)
      }
    }
    assertRefused(verifyHookAuth(input({ ...base, hmac_sig_regex: '[a-f0-9]+' }, { 'x-signature': sig }, body)), /did not match/)
  })

  test('missing configuration, header or secret is refused', () => {
    const sig = hex('sha256', 's3cret', body)
    assertRefused(verifyHookAuth(input({ ...base, hmac_header: '' }, { 'x-signature': sig }, body)), /hmac_header/)
    assertRefused(verifyHookAuth(input({ ...base, hmac_secret: '' }, { 'x-signature': sig }, body)), /hmac_secret/)
    assertRefused(verifyHookAuth(input(base, {}, body)), /missing/)
    assertRefused(verifyHookAuth(input(base, { 'x-signature': [sig, sig] }, body)), /more than once/)
  })

  test('an oversized signature header is not fed to a configured regex', () => {
    const hook = { ...base, hmac_sig_prefix: '', hmac_sig_regex: '(a+)+$' }
    const started = process.hrtime.bigint()
    assertRefused(verifyHookAuth(input(hook, { 'x-signature': 'a'.repeat(100_000) + '!' }, body)))
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n)
  })
})

describe('scheme selection', () => {
  test('a bearer token does not pass an hmac hook, and a signature does not pass a bearer hook', () => {
    const sig = 'sha256=' + createHmac('sha256', 'k').update('{}').digest('hex')
    assertRefused(verifyHookAuth(input({ auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: 'k', token: 't' }, { authorization: 'Bearer t' }, '{}')))
    assertRefused(verifyHookAuth(input({ auth_mode: 'bearer', token: 't', hmac_secret: 'k' }, { 'x-hub-signature-256': sig }, '{}')))
  })

  test('a preset ignores the generic knobs', () => {
    const sig = 'sha256=' + createHmac('sha256', 'k').update('{}').digest('hex')
    const hook = { auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: 'k', hmac_header: 'X-Other', hmac_sig_regex: '(' }
    assert.equal(verifyHookAuth(input(hook, { 'x-hub-signature-256': sig }, '{}')).ok, true)
  })
})

test('safeEqual compares content, whatever the lengths', () => {
  assert.equal(safeEqual('abc', 'abc'), true)
  assert.equal(safeEqual('abc', 'abd'), false)
  assert.equal(safeEqual('abc', 'abcd'), false)
  assert.equal(safeEqual('', ''), true)
  assert.equal(safeEqual(Buffer.from('x'), 'x'), true)
})

test('digestEqual: a signature equals the computed digest byte for byte, a shorter, longer or multi-byte look-alike does not', () => {
  const digest = createHmac('sha256', 'k').update('{}').digest('hex')
  assert.equal(digestEqual(digest, digest), true)
  assert.equal(digestEqual(digest.slice(0, -1), digest), false)
  assert.equal(digestEqual(digest + '0', digest), false)
  assert.equal(digestEqual(digest.toUpperCase(), digest), false)
  // Same number of UTF-16 units, more bytes: compared as bytes, so a different length.
  assert.equal(digestEqual('é'.repeat(digest.length), digest), false)
  assert.equal(digestEqual('', ''), true)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deliveryKeys, firstHeaderId, githubScheme } from '../../src/webhooks/delivery-id.ts'
import { makeHook } from './helpers.ts'

const chain = (headers: Record<string, string | string[]>, dedupeHeader: string | null = null) =>
  firstHeaderId(headers, [dedupeHeader, 'x-github-delivery', 'webhook-id'])
const body = Buffer.from('{"id":"evt_1","event_id":"Ev0PV52K25"}')
const payload = JSON.parse(body.toString()) as Record<string, unknown>

test('bearer and generic HMAC hooks: the dedupe header, else X-GitHub-Delivery, else webhook-id', () => {
  const bearer = makeHook()
  assert.equal(deliveryKeys(bearer, { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }, body, payload).deliveryId, '72d3162e-cc78-11e3-81ab-4c9367dc0958')
  assert.equal(deliveryKeys(bearer, { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek' }, body, payload).deliveryId, 'msg_p5jXN8AQM9LWM0D4loKWxJek')
  const withHeader = makeHook({ dedupe_header: 'X-Request-Id' })
  assert.equal(deliveryKeys(withHeader, { 'x-request-id': 'req-1', 'x-github-delivery': 'gh-1' }, body, payload).deliveryId, 'req-1')
  assert.equal(deliveryKeys(makeHook(), { 'x-request-id': 'req-1' }, body, payload).deliveryId, null)
  assert.deepEqual(deliveryKeys(bearer, {}, body, payload).replayKeys, [], 'no body window unless the hook sets one')
})

test('each preset takes its sender\'s id: Stripe and Slack from the signed body, GitHub and Standard Webhooks from their header', () => {
  const stripe = makeHook({ auth_mode: 'hmac', hmac_preset: 'stripe' })
  assert.equal(deliveryKeys(stripe, { 'x-github-delivery': 'forged', 'stripe-signature': 't=1,v1=ab' }, body, payload).deliveryId, 'evt_1')
  const slack = makeHook({ auth_mode: 'hmac', hmac_preset: 'slack' })
  const slackKeys = deliveryKeys(slack, { 'x-slack-request-timestamp': '1', 'x-slack-retry-num': '2', 'webhook-id': 'forged' }, body, payload)
  assert.equal(slackKeys.deliveryId, 'Ev0PV52K25')
  assert.equal(slackKeys.retryNum, '2')
  const github = makeHook({ auth_mode: 'hmac', hmac_preset: 'github' })
  assert.equal(deliveryKeys(github, { 'webhook-id': 'forged' }, body, payload).deliveryId, null, 'GitHub takes X-GitHub-Delivery only')
  const standard = makeHook({ auth_mode: 'standard' })
  assert.equal(deliveryKeys(standard, { 'webhook-id': 'msg_1', 'x-github-delivery': 'forged' }, body, payload).deliveryId, 'msg_1')
})

test('replay keys: the signed content for twice the tolerance, the body for the hook\'s window (GitHub: 24 h by default)', () => {
  const stripe = makeHook({ auth_mode: 'hmac', hmac_preset: 'stripe', timestamp_tolerance_seconds: 300 })
  const a = deliveryKeys(stripe, { 'stripe-signature': 't=100,v1=aa' }, body, payload).replayKeys
  const b = deliveryKeys(stripe, { 'stripe-signature': 'v1=bb, t=100 ,v1=aa' }, body, payload).replayKeys
  const c = deliveryKeys(stripe, { 'stripe-signature': 't=101,v1=aa' }, body, payload).replayKeys
  assert.equal(a.length, 1)
  assert.equal(a[0]?.ttlMs, 660_000)
  assert.equal(a[0]?.key, b[0]?.key, 'same timestamp and body: same key, however the header is written')
  assert.notEqual(a[0]?.key, c[0]?.key)
  assert.match(a[0]?.key ?? '', /^test-hook sig:[0-9a-f]{64}$/)

  const github = deliveryKeys(makeHook({ auth_mode: 'hmac', hmac_preset: 'github' }), {}, body, payload).replayKeys
  assert.deepEqual(github.map((k) => k.ttlMs), [86_400_000])
  assert.match(github[0]?.key ?? '', /^test-hook body:[0-9a-f]{64}$/)
  assert.deepEqual(deliveryKeys(makeHook({ auth_mode: 'hmac', hmac_preset: 'github', dedupe_window_seconds: 0 }), {}, body, payload).replayKeys, [], 'window 0: off')
  assert.deepEqual(deliveryKeys(makeHook({ dedupe_window_seconds: 60 }), {}, body, payload).replayKeys.map((k) => k.ttlMs), [60_000])
})

test('no id, or an unusable one, gives null', () => {
  assert.equal(chain({}), null)
  assert.equal(chain({ 'webhook-id': '' }), null)
  assert.equal(chain({ 'webhook-id': '   ' }), null)
  assert.equal(chain({ 'webhook-id': 'x'.repeat(201) }), null)
  assert.equal(chain({ 'webhook-id': 'has space' }), null)
  assert.equal(chain({ 'webhook-id': 'ünïcode' }), null)
  assert.equal(chain({ 'webhook-id': ['a', 'b'] }), null)
  assert.equal(chain({ 'webhook-id': ['a'] }), 'a')
  assert.equal(chain({ 'x-github-delivery': 'bad id', 'webhook-id': 'good' }), 'good')
  assert.equal(chain({ 'webhook-id': ' padded ' }), 'padded')
  const stripe = makeHook({ auth_mode: 'hmac', hmac_preset: 'stripe' })
  assert.equal(deliveryKeys(stripe, {}, body, { id: 42 }).deliveryId, null, 'a non-string event id is no id')
  assert.equal(deliveryKeys(stripe, {}, body, { id: 'has space' }).deliveryId, null)
})

test('a generic HMAC hook set up exactly as GitHub signs (the Python version\'s GitHub hook) gets GitHub\'s body window; only a GitHub delivery leaves its body behind', () => {
  const github = { auth_mode: 'hmac' as const, hmac_header: 'X-Hub-Signature-256', hmac_algorithm: 'sha256' as const, hmac_encoding: 'hex' as const, hmac_sig_prefix: 'sha256=' }
  assert.equal(githubScheme(makeHook(github)), true)
  assert.equal(githubScheme(makeHook({ ...github, hmac_header: 'x-hub-signature', hmac_algorithm: 'sha1', hmac_sig_prefix: 'sha1=' })), true, 'GitHub\'s older sha1 header')
  for (const differs of [{ hmac_sig_prefix: '' }, { hmac_algorithm: 'sha512' as const }, { hmac_encoding: 'base64' as const }, { hmac_header: 'X-Signature' }, { hmac_sig_regex: '^sha256=(.*)$' }, { hmac_preset: 'github' as const }, { auth_mode: 'bearer' as const }]) {
    assert.equal(githubScheme(makeHook({ ...github, ...differs })), false, JSON.stringify(differs))
  }
  const hook = makeHook(github)
  const fromGithub = deliveryKeys(hook, { 'x-github-delivery': '72d3162e' }, body, payload).replayKeys
  assert.deepEqual(fromGithub.map((k) => [k.ttlMs, k.remember]), [[86_400_000, undefined]], 'kept 24 h')
  const fromElsewhere = deliveryKeys(hook, {}, body, payload).replayKeys
  assert.deepEqual(fromElsewhere.map((k) => [k.key, k.ttlMs, k.remember]), [[fromGithub[0]?.key, 86_400_000, false]], 'checked, not kept')
  const own = deliveryKeys(makeHook({ ...github, dedupe_window_seconds: 60 }), {}, body, payload).replayKeys
  assert.deepEqual(own.map((k) => [k.ttlMs, k.remember]), [[60_000, undefined]], 'a window the hook sets applies to every delivery')
})

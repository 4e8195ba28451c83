import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { sign as githubSign } from '@octokit/webhooks-methods'
import { assertError, hmacHex, setup } from './hooks-helpers.ts'

/**
 * Issue 15: no signed request is dispatched twice, whatever header the sender or an attacker changes.
 * Each sender's scheme is followed as published: Stripe (`Stripe-Signature: t=…,v1=HMAC(t.body)`,
 * retries resend the same event id with a new timestamp), Slack (`v0=HMAC(v0:ts:body)`, retries carry
 * `X-Slack-Retry-Num` and the same `event_id`), GitHub (signed by @octokit/webhooks-methods;
 * `X-GitHub-Delivery` is not signed) and Standard Webhooks (signed by the `standardwebhooks` library).
 * A genuine retry answers 200 duplicate; a replay answers duplicate or 401; the agent runs once.
 */

const now = () => Math.floor(Date.now() / 1000)

async function dispatched (app: Awaited<ReturnType<typeof setup>>['app'], id: string): Promise<number> {
  return app.webhooks.store.get(id)?.trigger_count ?? -1
}

test('Stripe: the same request again, and Stripe\'s own retry with a new timestamp, answer duplicate; a stale replay is refused', async (t) => {
  const { addHook, post, app, idle } = await setup(t)
  const secret = 'whsec_stripe_signing_secret_0123'
  await addHook({ id: 'stripe', auth_mode: 'hmac', hmac_preset: 'stripe', hmac_secret: secret })
  const body = JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event', type: 'invoice.paid', msg: 'paid' })
  const signed = (ts: number, b = body) => ({ 'stripe-signature': `t=${ts},v1=${hmacHex(secret, `${ts}.${b}`)}` })

  const first = await post('stripe', body, signed(now()))
  assert.equal(first.statusCode, 202, first.body)
  assert.equal(first.json().delivery_id, 'evt_1NG8Du2eZvKYlo2CUI79vXWy', 'the event id is the delivery id')
  const headers = signed(now())
  const replay = await post('stripe', body, { ...headers, 'x-github-delivery': 'made-up' })
  assert.deepEqual(replay.json(), { accepted: false, duplicate: true, delivery_id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy' })
  const retry = await post('stripe', body, signed(now() + 5))
  assert.equal(retry.statusCode, 200, 'Stripe\'s retry (same event, new signature) is a duplicate')
  assert.equal(retry.json().duplicate, true)
  const stale = now() - 301
  assertError(await post('stripe', body, signed(stale)), 401, 'unauthorized')

  // An event without an id (not Stripe's format, but signed): the exact signed request still counts once.
  const noId = '{"msg":"no id"}'
  const noIdHeaders = signed(now(), noId)
  assert.equal((await post('stripe', noId, noIdHeaders)).statusCode, 202)
  assert.equal((await post('stripe', noId, noIdHeaders)).json().duplicate, true, 'same timestamp and body: a replay')
  await idle()
  assert.equal(await dispatched(app, 'stripe'), 2, 'two events, each dispatched once')
})

test('Slack: a replay and a retry (X-Slack-Retry-Num, new timestamp) of the same event_id answer duplicate; another event runs', async (t) => {
  const { addHook, post, app, idle } = await setup(t)
  const secret = '8f742231b10e8888abcd99yyyzzz85a5'
  await addHook({ id: 'slack', auth_mode: 'hmac', hmac_preset: 'slack', hmac_secret: secret })
  const event = (id: string) => JSON.stringify({ token: 'x', team_id: 'T1', type: 'event_callback', event_id: id, event: { type: 'message', text: 'hi' }, msg: id })
  const signed = (ts: number, body: string, extra: Record<string, string> = {}) =>
    ({ 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${hmacHex(secret, `v0:${ts}:${body}`)}`, ...extra })

  const body = event('Ev0PV52K25')
  const headers = signed(now(), body)
  const first = await post('slack', body, headers)
  assert.equal(first.statusCode, 202, first.body)
  assert.equal(first.json().delivery_id, 'Ev0PV52K25')
  assert.equal((await post('slack', body, headers)).json().duplicate, true, 'the captured request sent again')
  const retry = await post('slack', body, signed(now() + 3, body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }))
  assert.equal(retry.statusCode, 200)
  assert.equal(retry.json().duplicate, true, 'Slack\'s retry of the same event')
  assertError(await post('slack', body, signed(now() - 400, body)), 401, 'unauthorized')
  const other = event('Ev0PV52K26')
  assert.equal((await post('slack', other, signed(now(), other))).statusCode, 202)
  await idle()
  assert.equal(await dispatched(app, 'slack'), 2)
})

test('GitHub: a captured delivery sent again with a new, a missing or the same X-GitHub-Delivery answers duplicate', async (t) => {
  const { addHook, post, app, idle } = await setup(t)
  const secret = 'github-webhook-secret-0123456789'
  await addHook({ id: 'gh', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: secret })
  const body = JSON.stringify({ ref: 'refs/heads/main', after: 'c0ffee', msg: 'push' })
  const signature = await githubSign(secret, body)
  assert.match(signature, /^sha256=[0-9a-f]{64}$/)

  const first = await post('gh', body, { 'x-hub-signature-256': signature, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-event': 'push' })
  assert.equal(first.statusCode, 202, first.body)
  for (const delivery of ['72d3162e-cc78-11e3-81ab-4c9367dc0958', '00000000-0000-0000-0000-000000000001', undefined]) {
    const res = await post('gh', body, { 'x-hub-signature-256': signature, 'x-github-event': 'push', ...(delivery !== undefined && { 'x-github-delivery': delivery }) })
    assert.equal(res.statusCode, 200, `delivery header ${String(delivery)}`)
    assert.equal(res.json().duplicate, true)
  }
  const next = JSON.stringify({ ref: 'refs/heads/main', after: 'beef', msg: 'push 2' })
  assert.equal((await post('gh', next, { 'x-hub-signature-256': await githubSign(secret, next), 'x-github-delivery': 'a-new-one' })).statusCode, 202)
  await idle()
  assert.equal(await dispatched(app, 'gh'), 2)
})

test('Standard Webhooks: a replay and a re-signed retry of the same webhook-id answer duplicate; a changed id without its signature is refused', async (t) => {
  const { addHook, post, app, idle } = await setup(t)
  const secret = `whsec_${randomBytes(24).toString('base64')}`
  await addHook({ id: 'std', auth_mode: 'standard', hmac_secret: secret })
  const wh = new Webhook(secret)
  const body = JSON.stringify({ type: 'invoice.paid', msg: 'std' })
  const signed = (id: string, at: Date) => ({ 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign(id, at, body) })

  const headers = signed('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date())
  const first = await post('std', body, headers)
  assert.equal(first.statusCode, 202, first.body)
  assert.equal((await post('std', body, headers)).json().duplicate, true)
  const retry = await post('std', body, signed('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(Date.now() + 2000)))
  assert.equal(retry.json().duplicate, true, 'the sender\'s retry (same id, new timestamp and signature)')
  assertError(await post('std', body, { ...headers, 'webhook-id': 'msg_other' }), 401, 'unauthorized')
  assertError(await post('std', body, signed('msg_old', new Date(Date.now() - 301_000))), 401, 'unauthorized')
  await idle()
  assert.equal(await dispatched(app, 'std'), 1)
})

test('bearer and generic HMAC: dedupe_header and dedupe_window_seconds make a repeated delivery or body a duplicate', async (t) => {
  const { addHook, post, app, idle } = await setup(t)
  await addHook({ id: 'plain', token: 'plain-token-0123456789abcdef' })
  await addHook({ id: 'windowed', token: 'windowed-token-0123456789abc', dedupe_window_seconds: 600 })
  await addHook({ id: 'byheader', token: 'byheader-token-0123456789ab', dedupe_header: 'X-Request-Id' })
  const secret = 'generic-hmac-secret-0123456789'
  await addHook({ id: 'generic', auth_mode: 'hmac', hmac_header: 'X-Signature', hmac_secret: secret, dedupe_window_seconds: 600 })
  const body = '{"msg":"same body"}'
  const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `bearer ${token}`, ...extra })

  assert.equal((await post('plain', body, bearer('plain-token-0123456789abcdef'))).statusCode, 202)
  assert.equal((await post('plain', body, bearer('plain-token-0123456789abcdef'))).statusCode, 202, 'without a window an identical body is a new delivery (as before)')

  assert.equal((await post('windowed', body, bearer('windowed-token-0123456789abc'))).statusCode, 202)
  assert.equal((await post('windowed', body, bearer('windowed-token-0123456789abc', { 'x-request-id': 'new' }))).json().duplicate, true)
  assert.equal((await post('windowed', '{"msg":"other"}', bearer('windowed-token-0123456789abc'))).statusCode, 202)

  assert.equal((await post('byheader', body, bearer('byheader-token-0123456789ab', { 'x-request-id': 'r-1' }))).statusCode, 202)
  const dup = await post('byheader', '{"msg":"changed"}', bearer('byheader-token-0123456789ab', { 'x-request-id': 'r-1' }))
  assert.deepEqual(dup.json(), { accepted: false, duplicate: true, delivery_id: 'r-1' })

  const sig = { 'x-signature': `sha256=${hmacHex(secret, body)}` }
  assert.equal((await post('generic', body, sig)).statusCode, 202)
  assert.equal((await post('generic', body, sig)).json().duplicate, true)
  await idle()
  assert.deepEqual(await Promise.all(['plain', 'windowed', 'byheader', 'generic'].map(async (id) => await dispatched(app, id))), [2, 2, 1, 1])
})

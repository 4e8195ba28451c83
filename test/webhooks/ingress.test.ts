import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { checkDelivery, isJsonContentType, type IngressConfig, type IngressRequest } from '../../src/webhooks/ingress.ts'
import type { Hook } from '../../src/webhooks/hook-schema.ts'
import { makeHook } from './helpers.ts'

const NOW = Date.UTC(2025, 0, 1)
const GITHUB_SECRET = 'gh-secret-value'

function storeOf (...hooks: Hook[]) {
  const byId = new Map(hooks.map((h) => [h.id, h]))
  return { get: (id: string) => byId.get(id) }
}

const store = storeOf(
  makeHook({ id: 'bearer', token: 'hook-token-value' }),
  makeHook({ id: 'off', token: 'hook-token-value', enabled: false }),
  makeHook({ id: 'github', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: GITHUB_SECRET })
)
const config: IngressConfig = { enabled: true, max_body_bytes: 64, token: 'global-token-value' }
const okBody = '{"msg":"hi"}'

function request (overrides: Partial<IngressRequest> & { bodyText?: string } = {}): IngressRequest {
  const { bodyText = okBody, ...rest } = overrides
  return {
    hookId: 'bearer',
    headers: { authorization: 'Bearer hook-token-value' },
    body: Buffer.from(bodyText),
    contentType: 'application/json',
    now: NOW,
    ...rest
  }
}

function statusOf (req: IngressRequest, cfg = config): number {
  const result = checkDelivery(store, cfg, req)
  return result.ok ? 202 : result.status
}

describe('order of checks', () => {
  const badAuth = { headers: { authorization: 'Bearer wrong' } }

  test('body size comes first, then webhooks enabled, hook exists, enabled, auth, content type, JSON object', () => {
    const big = 'x'.repeat(65)
    assert.equal(statusOf(request({ hookId: 'nope', bodyText: big, ...badAuth })), 413)
    assert.equal(statusOf(request({ hookId: 'nope', ...badAuth }), { ...config, enabled: false }), 403)
    assert.equal(statusOf(request({ hookId: 'nope', ...badAuth, contentType: 'text/plain' })), 404)
    assert.equal(statusOf(request({ hookId: 'off', ...badAuth, contentType: 'text/plain' })), 403)
    assert.equal(statusOf(request({ ...badAuth, contentType: 'text/plain', bodyText: 'not json' })), 401)
    assert.equal(statusOf(request({ contentType: 'text/plain', bodyText: 'not json' })), 415)
    assert.equal(statusOf(request({ bodyText: 'not json' })), 400)
    assert.equal(statusOf(request()), 202)
  })

  test('the size limit is inclusive', () => {
    const atLimit = `{"m":"${'x'.repeat(config.max_body_bytes - 8)}"}`
    assert.equal(Buffer.byteLength(atLimit), config.max_body_bytes)
    assert.equal(statusOf(request({ bodyText: atLimit })), 202)
    assert.equal(statusOf(request({ bodyText: atLimit + ' ' })), 413)
  })

  test('ids that name object internals are simply unknown', () => {
    for (const hookId of ['__proto__', 'constructor', 'toString', '']) assert.equal(statusOf(request({ hookId })), 404)
  })
})

describe('answers', () => {
  test('errors carry a stable code and a sentence saying what is allowed, never a secret', () => {
    const cases: Array<[IngressRequest, IngressConfig, string, RegExp]> = [
      [request({ bodyText: 'x'.repeat(100) }), config, 'payload_too_large', /100 bytes; the limit is 64 bytes/],
      [request(), { ...config, enabled: false }, 'forbidden', /webhooks.enabled/],
      [request({ hookId: 'nope' }), config, 'not_found', /no webhook/],
      [request({ hookId: 'off' }), config, 'forbidden', /disabled/],
      [request({ headers: { authorization: 'Bearer global-token-value' } }), config, 'unauthorized', /credentials/],
      [request({ contentType: 'text/plain' }), config, 'unsupported_media_type', /application\/json/],
      [request({ bodyText: '[1]' }), config, 'bad_request', /JSON object/]
    ]
    for (const [req, cfg, error, message] of cases) {
      const result = checkDelivery(store, cfg, req)
      assert.equal(result.ok, false)
      if (result.ok) continue
      assert.equal(result.error, error)
      assert.match(result.message, message)
      assert.doesNotMatch(result.message, /hook-token-value|global-token-value|gh-secret-value/)
    }
  })

  test('an auth failure keeps its reason for the log, apart from the answer', () => {
    const result = checkDelivery(store, config, request({ headers: {} }))
    assert.ok(!result.ok)
    assert.equal(result.message, 'missing or invalid credentials for this webhook')
    assert.match(result.logReason ?? '', /authorization missing/)
  })

  test('accepted: the hook, the parsed payload and the delivery id', () => {
    const result = checkDelivery(store, config, request({
      headers: { authorization: 'Bearer hook-token-value', 'x-github-delivery': 'd-1' }
    }))
    assert.ok(result.ok)
    assert.equal(result.hook.id, 'bearer')
    assert.deepEqual(result.payload, { msg: 'hi' })
    assert.equal(result.deliveryId, 'd-1')
    const noId = checkDelivery(store, config, request())
    assert.ok(noId.ok)
    assert.equal(noId.deliveryId, null)
  })

  test('a signed hook verifies over the raw bytes before parsing', () => {
    const body = '{ "zen": "Keep it logically awesome." }'
    const signature = 'sha256=' + createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')
    const base = { hookId: 'github', bodyText: body, headers: { 'x-hub-signature-256': signature } }
    assert.equal(statusOf(request(base), { ...config, max_body_bytes: 1024 }), 202)
    // Same JSON, different bytes: refused.
    assert.equal(statusOf(request({ ...base, bodyText: '{"zen":"Keep it logically awesome."}' }), { ...config, max_body_bytes: 1024 }), 401)
  })
})

describe('content type', () => {
  test('JSON types are accepted, with a UTF-8 charset at most', () => {
    for (const type of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF-8',
      'application/cloudevents+json', 'application/vnd.github+json; charset=utf-8']) {
      assert.equal(isJsonContentType(type), true, type)
    }
    for (const type of [undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'text/json',
      'application/json; charset=latin1', 'application/+json', 'multipart/form-data; boundary=x', 'application/json-seq']) {
      assert.equal(isJsonContentType(type), false, String(type))
    }
  })
})

describe('body', () => {
  const big = { ...config, max_body_bytes: 4096 }
  const bodyStatus = (bodyText: string | Buffer) =>
    statusOf(typeof bodyText === 'string' ? request({ bodyText }) : { ...request(), body: bodyText }, big)

  test('only a JSON object is accepted', () => {
    for (const text of ['[]', '"text"', '42', 'null', 'true', '', '   ', '{', '{"a":1}{"b":2}', '{a:1}']) {
      assert.equal(bodyStatus(text), 400, JSON.stringify(text))
    }
    assert.equal(bodyStatus('\ufeff{"a":1}'), 202)
    assert.equal(bodyStatus('{"nested":{"constructor":"just a string"}}'), 202)
  })

  test('invalid UTF-8 is refused', () => {
    assert.equal(bodyStatus(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), 400)
  })

  test('prototype pollution attempts are refused and pollute nothing', () => {
    for (const text of [
      '{"__proto__":{"polluted":"yes"}}',
      '{"a":{"__proto__":{"polluted":"yes"}}}',
      '{"\\u005f_proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"list":[{"__proto__":{"polluted":"yes"}}]}'
    ]) {
      const result = checkDelivery(store, big, request({ bodyText: text }))
      assert.ok(!result.ok, text)
      assert.equal(result.status, 400)
      assert.match(result.message, /__proto__/)
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

// README and docs/admin-api.md: "Every error is JSON: {"error": "<code>", "message": "<sentence>"}"
// with the stable codes of the table. An outside tester (breakit report 1, F5) got Fastify's own
// objects instead ({"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH",…,"statusCode":414}),
// the validator's internal paths ("params/chatId must match pattern …") and two wordings of one JSON
// mistake. These tests go through both real listeners (and in-process requests) and look at the shape
// and the sentence of each answer (ADR 0045).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ADMIN_TOKEN, build, rawHttp, testConfig } from '../helper.ts'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'

const CODES = ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'internal_error', 'unavailable']
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const SECRET = 'error-shape-webhook-secret_0123456789'

/** One HTTP/1.1 request as written (fetch would normalise a broken %-escape); the status and the JSON body. */
async function raw (base: string, request: string): Promise<{ status: number, body: string }> {
  const text = await rawHttp(base, request)
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) }
}

function get (path: string, headers = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`
}

function post (path: string, body: string, headers = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`
}

/** The documented shape, nothing more: a stable code and a sentence free of Fastify's and Ajv's internals. */
function assertShape (context: string, status: number, body: string, expected: { status: number, error: string, message?: RegExp }): string {
  assert.equal(status, expected.status, `${context}: ${body}`)
  const json = JSON.parse(body) as Record<string, unknown>
  assert.deepEqual(Object.keys(json).sort(), ['error', 'message'], `${context}: ${body}`)
  assert.equal(json['error'], expected.error, `${context}: ${body}`)
  assert.ok(CODES.includes(json['error'] as string), context)
  const message = json['message'] as string
  assert.doesNotMatch(message, /FST_|params\/|querystring\/|body\/|must have required property|must match pattern|Body is not valid JSON|is not a valid url component|exceeding the max param length/, `${context}: ${message}`)
  if (expected.message !== undefined) assert.match(message, expected.message, context)
  return message
}

test('both listeners answer router, parser and validator refusals as {error, message} with a stable code and a sentence naming the field', { timeout: 60_000 }, async (t) => {
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(async () => { await fake.close() })
  const service = await build(t, {
    serve: true,
    config: testConfig({
      telegram_token: fake.token,
      allowed_user_ids: [4242],
      webhooks: { enabled: true },
      server: { host: '127.0.0.1', port: 0, public_url: 'https://bot.example.test' },
      telegram: { mode: 'webhook', api_root: fake.apiRoot, webhook_secret: SECRET }
    }),
    exactEnv: { PATH: '/usr/bin:/bin' }
  })
  const pub = service.url
  const admin = service.adminUrl ?? ''
  const bearer = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`
  const long = 'a'.repeat(300)

  // The router's refusals (Fastify's frameworkErrors): a 300-character id, a broken %-escape.
  let r = await raw(pub, post(`/hooks/${long}`, '{}'))
  assertShape('public: a 300-character hook id', r.status, r.body, { status: 400, error: 'bad_request', message: /^the path's webhook id is 300 characters long; an id in the path has at most 100 characters$/ })
  r = await raw(pub, post('/hooks/%E0%A4%A', '{}'))
  assertShape('public: a broken %-escape', r.status, r.body, { status: 400, error: 'bad_request', message: /^the path's webhook id is not valid percent-encoding/ })
  r = await raw(admin, get(`/api/cron/${long}`, bearer))
  assertShape('admin: a 300-character cron job id', r.status, r.body, { status: 400, error: 'bad_request', message: /^the path's cron job id is 300 characters long/ })
  r = await raw(admin, get('/api/cron/%E0%A4%A', bearer))
  assertShape('admin: a broken %-escape', r.status, r.body, { status: 400, error: 'bad_request', message: /^the path's cron job id is not valid percent-encoding: each % must be followed by two hexadecimal digits/ })
  // Each listener still hides the other's routes (ADR 14), also when the router refuses the path.
  r = await raw(pub, get('/api/cron/%E0%A4%A', bearer))
  assertShape('public: /api with a broken escape', r.status, r.body, { status: 404, error: 'not_found' })
  r = await raw(pub, get(`/api/cron/${long}`, bearer))
  assertShape('public: /api with a long id', r.status, r.body, { status: 404, error: 'not_found' })
  r = await raw(admin, post(`/hooks/${long}`, '{}'))
  assertShape('admin: /hooks with a long id', r.status, r.body, { status: 404, error: 'not_found' })

  // A body that is not JSON: the same sentence on /api, on the Telegram webhook and on /hooks.
  await service.app.webhooks.store.create({ id: 'shape', title: 'Shape', mode: 'wake', prompt_template: 'x', token: 'shape-hook-token-0123456789' })
  const notJson = 'the body is not valid JSON; send one JSON object'
  r = await raw(admin, post('/api/chats/4242/messages', '{"text": "hi",', bearer))
  assert.equal(assertShape('admin: broken JSON', r.status, r.body, { status: 400, error: 'bad_request' }), notJson)
  r = await raw(pub, post('/telegram/webhook', '{"update_id": 1,', `X-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\n`))
  assert.equal(assertShape('telegram: broken JSON', r.status, r.body, { status: 400, error: 'bad_request' }), notJson)
  r = await raw(pub, post('/hooks/shape', '{"a": 1,', 'Authorization: Bearer shape-hook-token-0123456789\r\n'))
  assert.equal(assertShape('hooks: broken JSON', r.status, r.body, { status: 400, error: 'bad_request' }), notJson)
  r = await raw(admin, post('/api/chats/4242/messages', '', bearer))
  assertShape('admin: an empty JSON body', r.status, r.body, { status: 400, error: 'bad_request', message: /^the body is empty; send a JSON object/ })

  // The validator's wording: the field as the user sends it, what is wrong, what is allowed.
  r = await raw(pub, post('/telegram/webhook', '{"message": {}}', `X-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\n`))
  assertShape('telegram: no update_id', r.status, r.body, { status: 400, error: 'bad_request', message: /^update_id in the body is missing; it is required$/ })
  r = await raw(pub, post('/telegram/webhook', '{"update_id": -1}', `X-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\n`))
  assertShape('telegram: a negative update_id', r.status, r.body, { status: 400, error: 'bad_request', message: /^update_id in the body must be at least 0$/ })
  r = await raw(admin, post('/api/chats/..%2F..%2Fetc/messages', '{"text":"hi"}', bearer))
  assertShape('admin: a chat id with a path in it', r.status, r.body, { status: 400, error: 'bad_request', message: /^the path's chat id must be a Telegram chat id \(digits, with a leading - for groups\) or a short name of 1-64 letters, digits and _$/ })

  // Malformed HTTP that no route sees (Node's parser): our shape on both listeners.
  for (const base of [pub, admin]) {
    r = await raw(base, 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')
    assertShape(`${base === pub ? 'public' : 'admin'}: not HTTP`, r.status, r.body, { status: 400, error: 'bad_request', message: /^the request is not valid HTTP\/1\.1$/ })
    r = await raw(base, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`)
    assertShape(`${base === pub ? 'public' : 'admin'}: huge headers`, r.status, r.body, { status: 431, error: 'bad_request', message: /headers are too large/ })
  }
})

test('in-process requests: the validator\'s refusals name the field where the user put it', async (t) => {
  const { app } = await build(t)
  const cases: Array<{ method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, status?: number, message: RegExp }> = [
    { method: 'GET', url: '/api/runs/..bad', message: /^the path's run id must be 1-100 letters, digits, - and _$/ },
    { method: 'GET', url: '/api/runs?limit=many', message: /^limit in the query string must be an integer$/ },
    { method: 'GET', url: '/api/runs?limit=0', message: /^limit in the query string must be at least 1$/ },
    { method: 'GET', url: '/api/runs?kind=foo', message: /^kind in the query string must be one of chat, cron, webhook, heartbeat$/ },
    { method: 'GET', url: '/api/runs?colour=red', message: /^colour in the query string is not a known field/ },
    { method: 'POST', url: '/api/cron', payload: { id: 'Bad Id', title: 'A', schedule: '0 8 * * *' }, message: /^id in the body must be 1-64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit$/ },
    { method: 'POST', url: '/api/cron', payload: { id: 'a', schedule: '0 8 * * *' }, message: /^title in the body is missing; it is required$/ },
    { method: 'POST', url: '/api/cron', payload: { id: 'a', title: 5, schedule: '0 8 * * *' }, message: /^title in the body must be a string$/ },
    { method: 'POST', url: '/api/cron', payload: [1], message: /^the body must be a JSON object/ },
    { method: 'POST', url: '/api/chats/1/messages', payload: { text: '' }, message: /^text in the body must not be empty$/ },
    { method: 'PUT', url: '/api/memory', payload: {}, message: /^content in the body is missing; it is required$/ },
    { method: 'POST', url: '/api/approvals/zz', payload: { decision: 'allow' }, message: /^the path's approval id must be 32 hexadecimal digits/ }
  ]
  for (const c of cases) {
    const res = await app.inject({ method: c.method, url: c.url, headers: auth, ...(c.payload !== undefined && { payload: c.payload as object }) })
    assertShape(`${c.method} ${c.url}`, res.statusCode, res.body, { status: c.status ?? 400, error: 'bad_request', message: c.message })
  }
  const big = await app.inject({ method: 'PATCH', url: '/api/config', headers: { ...auth, 'content-type': 'application/json' }, payload: `{"a":"${'x'.repeat(1024 * 1024)}"}` })
  assertShape('a body over 1 MiB', big.statusCode, big.body, { status: 413, error: 'payload_too_large', message: /^the request body is larger than this route accepts: at most 1048576 bytes \(1 MiB\)$/ })
  const poisoned = await app.inject({ method: 'POST', url: '/api/chats/1/messages', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"text":"hi","__proto__":{"x":1}}' })
  assertShape('a __proto__ key', poisoned.statusCode, poisoned.body, { status: 400, error: 'bad_request', message: /__proto__/ })
})

test('a request that arrives while the service stops is a 503 "unavailable" in the documented shape', async (t) => {
  const { app } = await build(t, { parts: ['health'] })
  let release = (): void => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let closingStarted = (): void => {}
  const started = new Promise<void>((resolve) => { closingStarted = resolve })
  // Holds the close between its first step and the listener's end, as a drain of running work does.
  app.addHook('preClose', async () => { closingStarted(); await held })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const closed = app.close()
  await started
  const r = await raw(url, get('/health'))
  release()
  await closed
  assertShape('during the close', r.status, r.body, { status: 503, error: 'unavailable', message: /^ductor is shutting down; send the request again in a moment$/ })
})

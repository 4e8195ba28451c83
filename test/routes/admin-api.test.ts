import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { build, fakeClis, testConfig, ADMIN_TOKEN } from '../helper.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

test('every route in /api/openapi.json refuses a missing or wrong token (401) and proxied requests (403)', async (t) => {
  const { app } = await build(t)
  const doc = await app.inject({ method: 'GET', url: '/api/openapi.json', headers: auth })
  assert.equal(doc.statusCode, 200)
  const spec = doc.json()
  assert.equal(spec.openapi, '3.0.3')
  const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({ method: method.toUpperCase(), url: path.replace(/\{[^}]+\}/g, '42') })))
  assert.ok(routes.length >= 12, `the document lists the API (${routes.length} routes)`)
  assert.ok(routes.every((r) => r.url.startsWith('/api/')))
  for (const route of routes) {
    const method = route.method as 'GET'
    const none = await app.inject({ method, url: route.url, payload: method === 'GET' || method === 'DELETE' ? undefined : {} })
    assert.equal(none.statusCode, 401, `${route.method} ${route.url} without a token`)
    assert.deepEqual(Object.keys(none.json()).sort(), ['error', 'message'])
    const wrong = await app.inject({ method, url: route.url, headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })
    assert.equal(wrong.statusCode, 401, `${route.method} ${route.url} with a wrong token`)
    const proxied = await app.inject({ method, url: route.url, headers: { ...auth, forwarded: 'for=203.0.113.9' } })
    assert.equal(proxied.statusCode, 403, `${route.method} ${route.url} through a proxy`)
  }
  const noAuthDoc = await app.inject({ method: 'GET', url: '/api/openapi.json' })
  assert.equal(noAuthDoc.statusCode, 401, 'the document itself is behind the token')
})

test('admin.allow_proxied lets proxied requests through (the token is still required)', async (t) => {
  const { app } = await build(t, { config: testConfig({ admin: { token: ADMIN_TOKEN, allow_proxied: true } }) })
  const ok = await app.inject({ method: 'GET', url: '/api/status', headers: { ...auth, 'x-forwarded-for': '10.0.0.1' } })
  assert.equal(ok.statusCode, 200)
  const noToken = await app.inject({ method: 'GET', url: '/api/status', headers: { 'x-forwarded-for': '10.0.0.1' } })
  assert.equal(noToken.statusCode, 401)
})

test('GET /api/config shows the effective config with every secret redacted', async (t) => {
  const config = testConfig({ telegram_token: '123456:SECRET-bot-token-value-abcdef', webhooks: { token: 'global-hook-token-secret' }, media: { stt_api_key: 'sk-speech-to-text-secret' }, some_api_key: 'legacy-secret-value' })
  const { app } = await build(t, { config })
  const res = await app.inject({ method: 'GET', url: '/api/config', headers: auth })
  assert.equal(res.statusCode, 200)
  const text = res.body
  for (const secret of ['SECRET-bot-token', 'global-hook-token-secret', 'sk-speech-to-text-secret', ADMIN_TOKEN, 'legacy-secret-value']) {
    assert.ok(!text.includes(secret), `${secret} is not shown`)
  }
  const body = res.json()
  assert.equal(body.telegram_token, '[redacted]')
  assert.equal(body.admin.token, '[redacted]')
  assert.equal(body.telegram.webhook_secret, '[redacted]')
  assert.equal(body.media.stt_api_key, '[redacted]')
  assert.equal(body.model, 'opus')
})

test('PATCH /api/config validates, persists atomically, applies live keys and names the ones needing a restart', async (t) => {
  const { app, paths } = await build(t)
  const bad = await app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload: { cli_timeout: 'soon' } })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.json().message, /cli_timeout.*"soon".*a number from 1 to 86400/)
  const unknown = await app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload: { streaming: { edit_every: 2 } } })
  assert.equal(unknown.statusCode, 400)
  assert.match(unknown.json().message, /streaming\/edit_every: unknown config key/)
  // A wrong type where the model is read as text is a 400 naming the field, not a 500 (found by the hostile suite).
  for (const payload of [{ model: true, provider: null }, { model: 7 }, { provider: null }]) {
    const typed = await app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload })
    assert.equal(typed.statusCode, 400, JSON.stringify(payload))
    assert.match(typed.json().message, /body\/(model|provider)/)
  }

  const res = await app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload: { model: 'sonnet', limits: { max_concurrent_runs: 2 }, server: { port: 9999 } } })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.deepEqual(body.changed.sort(), ['limits.max_concurrent_runs', 'model', 'server.port'])
  assert.deepEqual(body.applied_live.sort(), ['limits.max_concurrent_runs', 'model'])
  assert.deepEqual(body.restart_required, ['server.port'])
  assert.equal(app.settings.config().model, 'sonnet', 'applied live')
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: auth })).json().concurrency.max, 2)
  const file = JSON.parse(await readFile(paths.config, 'utf8'))
  assert.equal(file.model, 'sonnet', 'persisted')
  assert.equal(file.server.port, 9999)
  assert.equal(file.admin.token, ADMIN_TOKEN, 'secrets stay in the file')
})

test('sessions, memory and runs round-trip through the API', async (t) => {
  const bin = await fakeClis(t)
  const { app } = await build(t, { env: { ...bin.env, FAKE_CLI_REPLY: 'ok' } })
  const sent = await app.inject({ method: 'POST', url: '/api/chats/77/messages', headers: auth, payload: { text: 'hello' } })
  assert.equal(sent.json().status, 'success')

  const list = (await app.inject({ method: 'GET', url: '/api/sessions', headers: auth })).json()
  assert.equal(list.sessions.length, 1)
  assert.equal(list.sessions[0].provider_sessions.claude.session_id, sent.json().session_id)
  const one = await app.inject({ method: 'GET', url: '/api/sessions/77', headers: auth })
  assert.equal(one.json().provider_sessions.claude.message_count, 1)
  assert.equal((await app.inject({ method: 'GET', url: '/api/sessions/78', headers: auth })).statusCode, 404)
  const del = await app.inject({ method: 'DELETE', url: '/api/sessions/77?provider=claude', headers: auth })
  assert.deepEqual(del.json(), { deleted: true })
  assert.equal(app.stores.sessions.get('77')?.provider_sessions['claude'], undefined)

  const runs = (await app.inject({ method: 'GET', url: '/api/runs?kind=chat', headers: auth })).json()
  assert.equal(runs.runs.length, 1)
  assert.equal(runs.runs[0].id, sent.json().run_id)
  assert.equal(runs.runs[0].status, 'success')
  assert.equal(runs.runs[0].chat_id, '77')
  assert.deepEqual(Object.keys(runs.runs[0]).sort(), ['chat_id', 'cost_usd', 'ended_at', 'error', 'id', 'kind', 'model', 'provider', 'ref', 'started_at', 'status', 'tokens'])
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/runs?status=error', headers: auth })).json().runs, [])
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/runs/active', headers: auth })).json().runs, [])
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/runs/${String(sent.json().run_id)}`, headers: auth })).statusCode, 409)

  const put = await app.inject({ method: 'PUT', url: '/api/memory', headers: auth, payload: { content: '# Main memory\n\nLikes tea.\n' } })
  assert.equal(put.statusCode, 200)
  assert.equal(await readFile(app.settings.paths.memory, 'utf8'), '# Main memory\n\nLikes tea.\n')
  assert.equal((await app.inject({ method: 'GET', url: '/api/memory', headers: auth })).json().content, '# Main memory\n\nLikes tea.\n')
})

test('GET /api/status reports version, providers, queues and active runs', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/api/status', headers: auth })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.version, '0.0.0-test')
  assert.equal(body.provider, 'claude')
  assert.match(body.providers.claude, /installed/)
  assert.deepEqual(body.active_runs, [])
  assert.equal(body.telegram, 'off (no bot token)')
  const config = (await app.inject({ method: 'GET', url: '/api/config', headers: auth })).json()
  assert.equal(config.telegram_token, '', 'an unset secret reads empty')
})

test('the bearer scheme is case-insensitive; a text body is 415; every proxy or CDN header is refused', async (t) => {
  const { app } = await build(t)
  for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
    const res = await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } })
    assert.equal(res.statusCode, 200, `scheme ${scheme}`)
  }
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Basic ${ADMIN_TOKEN}` } })).statusCode, 401)
  assert.equal((await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer ${ADMIN_TOKEN} extra` } })).statusCode, 401)

  const text = await app.inject({ method: 'PUT', url: '/api/memory', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'remember this' })
  assert.equal(text.statusCode, 415, text.body)
  assert.equal(text.json().error, 'unsupported_media_type')
  assert.match(text.json().message, /application\/json/)
  const form = await app.inject({ method: 'POST', url: '/api/cron', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'id=x' })
  assert.equal(form.statusCode, 415)
  const memory = await app.inject({ method: 'GET', url: '/api/memory', headers: auth })
  assert.doesNotMatch(memory.body, /remember this/, 'the refused body changed nothing')

  const headers: Record<string, string> = {
    via: '1.1 proxy',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'bot.example.com',
    forwarded: 'for=203.0.113.9',
    'cf-connecting-ip': '203.0.113.9',
    'true-client-ip': '203.0.113.9',
    'x-client-ip': '203.0.113.9',
    'x-real-ip': '203.0.113.9'
  }
  for (const [name, value] of Object.entries(headers)) {
    const res = await app.inject({ method: 'GET', url: '/api/status', headers: { ...auth, [name]: value } })
    assert.equal(res.statusCode, 403, `${name} marks a proxied request`)
  }
})

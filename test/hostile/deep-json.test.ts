// Hostile bodies never 5xx (issue 14): an authenticated body nested thousands of levels deep, on every
// JSON ingress, is answered 400 with a clear message before anything is journaled. Before, the hooks
// route and the Telegram webhook answered 500 (a stack overflow in JSON.stringify inside the inbox).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ADMIN_TOKEN, testConfig } from '../helper.ts'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { deepJson, hostileRig } from './hostile-helpers.ts'
import { MAX_JSON_DEPTH } from '../../src/json-depth.ts'

const SECRET = 'deep-json-webhook-secret_0123456789abcdef'
const BEARER = 'deep-json-hook-token-0123456789abcdef'

test('a JSON body nested too deep is a 400 naming the limit on /hooks/:id, /telegram/webhook and /api/*, and nothing is journaled', { timeout: 60_000 }, async (t) => {
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(async () => { await fake.close() })
  const rig = await hostileRig(t, testConfig({
    telegram_token: fake.token,
    allowed_user_ids: [4242],
    webhooks: { enabled: true },
    server: { host: '127.0.0.1', port: 0, public_url: 'https://bot.example.test' },
    telegram: { mode: 'webhook', api_root: fake.apiRoot, webhook_secret: SECRET }
  }))
  await rig.app.webhooks.store.create({ id: 'deep', title: 'Deep', mode: 'wake', prompt_template: 'Event {{a}}', token: BEARER })

  for (const depth of [MAX_JSON_DEPTH + 1, 5_000, 30_000]) {
    for (const kind of ['object', 'array'] as const) {
      const nested = deepJson(depth, kind)
      const hook = await rig.app.inject({ method: 'POST', url: '/hooks/deep', headers: { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' }, payload: `{"a":${nested}}` })
      assert.equal(hook.statusCode, 400, `hooks ${kind} ${depth}: ${hook.body}`)
      assert.match(hook.json().message as string, new RegExp(`nested more than ${MAX_JSON_DEPTH} levels`))
      const update = await rig.app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-type': 'application/json' }, payload: `{"update_id":${depth},"message":${nested}}` })
      assert.equal(update.statusCode, 400, `telegram ${kind} ${depth}: ${update.body}`)
      assert.match(update.json().message as string, /nested more than/)
      const api = await rig.app.inject({ method: 'POST', url: '/api/chats/4242/messages', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: `{"text":"hi","extra":${nested}}` })
      assert.equal(api.statusCode, 400, `api ${kind} ${depth}: ${api.body}`)
      assert.match(api.json().message as string, /nested more than/)
    }
  }
  // Nothing was accepted: the same update id and delivery are new, not duplicates.
  const fresh = await rig.app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': SECRET, 'content-type': 'application/json' }, payload: { update_id: 5000 } })
  assert.deepEqual(fresh.json(), { ok: true })
  // A body at the limit is fine.
  const atLimit = await rig.app.inject({ method: 'POST', url: '/hooks/deep', headers: { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' }, payload: `{"a":${deepJson(MAX_JSON_DEPTH - 1, 'array')}}` })
  assert.equal(atLimit.statusCode, 202, atLimit.body)
  await rig.app.close() // before the home is removed
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkBotApi, checkBotToken, checkWebhook, maskToken, scrubToken } from '../../src/ops/doctor-telegram.ts'
import { completeConfig } from '../../src/config.ts'
import { freePort, json, localServer } from './helpers.ts'

const TOKEN = '123456789:AAHsecretsecretsecretsecretsecret12'
const SECRET = TOKEN.split(':')[1] as string

/** A fake Bot API: answers getMe and getWebhookInfo for TOKEN only. */
async function fakeBotApi (t: import('node:test').TestContext, webhook: Record<string, unknown> = { url: '', pending_update_count: 0 }) {
  return await localServer(t, (req: IncomingMessage, res: ServerResponse) => {
    if (!(req.url ?? '').startsWith(`/bot${TOKEN}/`)) return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' })
    if (req.url?.endsWith('/getMe') === true) return json(res, 200, { ok: true, result: { id: 123456789, is_bot: true, username: 'my_ductor_bot' } })
    if (req.url?.endsWith('/getWebhookInfo') === true) return json(res, 200, { ok: true, result: webhook })
    json(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
  })
}

const config = (apiRoot: string, over: Record<string, unknown> = {}) => completeConfig({
  telegram_token: TOKEN, allowed_user_ids: [42], telegram: { api_root: apiRoot }, ...over
})

const noToken = (text: string) => assert.ok(!text.includes(SECRET), `the token's secret never shows: ${text}`)

test('the token is masked to the bot id', () => {
  assert.equal(maskToken(TOKEN), '123456789:***')
  assert.equal(scrubToken(`GET /bot${TOKEN}/getMe and ${SECRET}`, TOKEN), 'GET /bot123456789:***/getMe and ***')
})

test('bot token: unset warns (Telegram off), malformed fails, no allowed users warns, set passes masked', () => {
  assert.equal(checkBotToken(completeConfig({})).status, 'warn')
  assert.equal(checkBotToken(completeConfig({ telegram_token: 'nonsense' })).status, 'fail')
  assert.match(checkBotToken(completeConfig({ telegram_token: TOKEN })).detail, /allowed_user_ids is empty: the bot ignores everyone/)
  const good = checkBotToken(config('http://x'))
  assert.deepEqual(good, { name: 'bot token', status: 'ok', detail: '123456789:***, 1 allowed user(s), polling mode' })
})

test('Bot API: getMe through telegram.api_root; a refused token and an unreachable or silent API fail', async (t) => {
  const api = await fakeBotApi(t)
  const okResult = await checkBotApi(config(api.url), fetch, 2000)
  assert.deepEqual(okResult, { name: 'Bot API', status: 'ok', detail: `reachable at ${api.url}; the bot is @my_ductor_bot` })
  assert.deepEqual(api.paths, [`/bot${TOKEN}/getMe`])

  const refused = await checkBotApi(completeConfig({ telegram_token: '123456789:AAHwrongwrongwrongwrongwrongwrong1', telegram: { api_root: api.url } }), fetch, 2000)
  assert.equal(refused.status, 'fail')
  assert.match(refused.detail, /Telegram refuses the token \(401 Unauthorized\)/)
  assert.match(refused.fix ?? '', /@BotFather/)

  const closed = await checkBotApi(config(`http://127.0.0.1:${await freePort()}`), fetch, 2000)
  assert.equal(closed.status, 'fail')
  assert.match(closed.detail, /cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/)

  const silent = await localServer(t, () => {})
  const started = Date.now()
  const slow = await checkBotApi(config(silent.url), fetch, 300)
  assert.equal(slow.status, 'fail')
  assert.match(slow.detail, /no answer within 300 ms/)
  assert.ok(Date.now() - started < 3000, 'the timeout holds')
  for (const r of [okResult, refused, closed, slow]) noToken(JSON.stringify(r))
})

test('webhook, webhook mode: registered at public_url + webhook_path passes; a recent delivery error, another URL or none warn', async (t) => {
  const mode = { server: { public_url: 'https://bot.example.com/', trust_proxy: true } }
  const expected = 'https://bot.example.com/telegram/webhook'
  const now = Date.UTC(2026, 10, 25, 12, 0, 0)
  const good = await fakeBotApi(t, { url: expected, pending_update_count: 2 })
  assert.deepEqual(await checkWebhook(config(good.url, mode), fetch, 2000, now), { name: 'webhook', status: 'ok', detail: `registered at ${expected}, 2 pending, no delivery errors` })
  assert.deepEqual(good.paths, [`/bot${TOKEN}/getWebhookInfo`])

  const failing = await fakeBotApi(t, { url: expected, pending_update_count: 7, last_error_date: now / 1000 - 300, last_error_message: 'Wrong response from the webhook: 403 Forbidden' })
  const warned = await checkWebhook(config(failing.url, mode), fetch, 2000, now)
  assert.equal(warned.status, 'warn')
  assert.equal(warned.detail, `registered at ${expected}, 7 pending; the last delivery failed 5 min ago: Wrong response from the webhook: 403 Forbidden`)
  assert.match(warned.fix ?? '', /\/telegram\/webhook/)

  const old = await fakeBotApi(t, { url: expected, last_error_date: now / 1000 - 3 * 86400, last_error_message: 'Connection refused' })
  assert.equal((await checkWebhook(config(old.url, mode), fetch, 2000, now)).status, 'ok', 'an error days old is history')

  const elsewhere = await fakeBotApi(t, { url: 'https://old.example.com/hook' })
  assert.match((await checkWebhook(config(elsewhere.url, mode), fetch, 2000, now)).detail, /registered for https:\/\/old\.example\.com\/hook, expected https:\/\/bot\.example\.com\/telegram\/webhook/)
  const unset = await fakeBotApi(t)
  assert.match((await checkWebhook(config(unset.url, mode), fetch, 2000, now)).detail, /not registered yet/)

  const http = await checkWebhook(config(unset.url, { server: { public_url: 'http://bot.example.com' } }), fetch, 2000, now)
  assert.equal(http.status, 'fail')
  assert.match(http.detail, /is not https:\/\/; Telegram only delivers to HTTPS/)
})

test('webhook, polling mode: none set passes; a leftover webhook warns', async (t) => {
  const none = await fakeBotApi(t)
  assert.deepEqual(await checkWebhook(config(none.url), fetch, 2000), { name: 'webhook', status: 'ok', detail: 'none set (polling mode)' })
  const leftover = await fakeBotApi(t, { url: 'https://bot.example.com/telegram/webhook' })
  const warned = await checkWebhook(config(leftover.url), fetch, 2000)
  assert.equal(warned.status, 'warn')
  assert.match(warned.detail, /a webhook is set \(https:\/\/bot\.example\.com\/telegram\/webhook\) while ductor is in polling mode/)
})

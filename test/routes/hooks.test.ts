import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, waitFor } from '../helper.ts'
import { admin, assertError, hmacHex, json, setup } from './hooks-helpers.ts'

test('refusals come in order: 413, 404, 403, 401, 415, 400, each as JSON {error, message}', async (t) => {
  const { addHook, post, idle } = await setup(t, { config: { webhooks: { enabled: true, max_body_bytes: 2048 } } })
  const hook = await addHook({ id: 'ci', token: 'ci-token-0123456789abcdef' })
  await addHook({ id: 'off', enabled: false })
  const good = { authorization: `Bearer ${hook.token}` }
  const big = 'x'.repeat(4096)

  // Each request also fails every later check, so only the order decides the answer.
  assertError(await post('nope', big, { 'content-type': 'text/plain' }), 413, 'payload_too_large')
  assertError(await post('nope', 'not json', { 'content-type': 'text/plain' }), 404, 'not_found')
  assertError(await post('off', 'not json', { 'content-type': 'text/plain' }), 403, 'forbidden')
  assertError(await post('ci', 'not json', { 'content-type': 'text/plain', authorization: 'Bearer wrong' }), 401, 'unauthorized')
  assertError(await post('ci', 'not json', { 'content-type': 'text/plain' }), 401, 'unauthorized')
  assertError(await post('ci', 'not json', { 'content-type': 'text/plain', ...good }), 415, 'unsupported_media_type')
  assertError(await post('ci', 'not json', good), 400, 'bad_request')
  assertError(await post('ci', '[1,2]', good), 400, 'bad_request')
  assertError(await post('ci', '{"__proto__":{"x":1}}', good), 400, 'bad_request')
  const ok = await post('ci', '{"msg":"hi"}', good)
  assert.equal(ok.statusCode, 202)
  assert.equal(ok.json().accepted, true)
  assert.equal(ok.json().hook_id, 'ci')
  assert.match(ok.json().delivery_id, /^[0-9a-f-]{36}$/)
  await idle()
})

test('the rate limit counts per hook and client address and answers 429 as JSON before anything else', async (t) => {
  const { addHook, post, idle } = await setup(t, { config: { webhooks: { enabled: true, rate_limit_per_minute: 2 } } })
  const hook = await addHook({ id: 'ci', token: 'ci-token-0123456789abcdef' })
  const good = { authorization: `Bearer ${hook.token}` }
  assert.equal((await post('ci', '{"msg":1}', good)).statusCode, 202)
  assert.equal((await post('ci', '{"msg":2}', good)).statusCode, 202)
  const limited = await post('nope', 'not json', { 'content-type': 'text/plain' })
  assert.equal(limited.statusCode, 404, 'another hook id has its own budget')
  const refused = await post('ci', 'x'.repeat(300_000), { 'content-type': 'text/plain' })
  assertError(refused, 429, 'rate_limited')
  assert.match(refused.json().message, /at most 2 a minute/)
  assert.ok(refused.headers['retry-after'] !== undefined)
  assert.equal((await post('ci', '{"msg":4}', good, '10.1.2.3')).statusCode, 202, 'another address has its own budget')
  await idle()
})

test('GitHub, Stripe, Slack, Standard Webhooks and bearer deliveries are accepted; a repeated delivery id answers 200 duplicate', async (t) => {
  const { addHook, post, app, idle } = await setup(t)
  const secret = 'shared-signing-secret-0123456789'
  await addHook({ id: 'gh', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: secret })
  await addHook({ id: 'stripe', auth_mode: 'hmac', hmac_preset: 'stripe', hmac_secret: 'whsec_stripe_secret_0123' })
  await addHook({ id: 'slack', auth_mode: 'hmac', hmac_preset: 'slack', hmac_secret: secret })
  const key = randomBytes(24)
  await addHook({ id: 'std', auth_mode: 'standard', hmac_secret: `whsec_${key.toString('base64')}` })
  await addHook({ id: 'global' })
  await app.webhooks.store.update('global', { token: '' })
  const now = Math.floor(Date.now() / 1000)
  const body = '{"msg":"deploy done","n":1}'

  const ghHeaders = { 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`, 'x-github-delivery': 'f0e1d2c3-0000-1111-2222-333344445555' }
  const gh = await post('gh', body, ghHeaders)
  assert.equal(gh.statusCode, 202, gh.body)
  assert.deepEqual(gh.json(), { accepted: true, hook_id: 'gh', delivery_id: 'f0e1d2c3-0000-1111-2222-333344445555' })
  const again = await post('gh', body, ghHeaders)
  assert.equal(again.statusCode, 200)
  assert.deepEqual(again.json(), { accepted: false, duplicate: true, delivery_id: 'f0e1d2c3-0000-1111-2222-333344445555' })
  assertError(await post('gh', body + ' ', ghHeaders), 401, 'unauthorized')

  const stripe = await post('stripe', body, { 'stripe-signature': `t=${now},v1=${'0'.repeat(64)},v1=${hmacHex('whsec_stripe_secret_0123', `${now}.${body}`)}` })
  assert.equal(stripe.statusCode, 202, stripe.body)
  const stale = now - 3600
  assertError(await post('stripe', body, { 'stripe-signature': `t=${stale},v1=${hmacHex('whsec_stripe_secret_0123', `${stale}.${body}`)}` }), 401, 'unauthorized')

  const slack = await post('slack', body, { 'x-slack-request-timestamp': String(now), 'x-slack-signature': `v0=${hmacHex(secret, `v0:${now}:${body}`)}` })
  assert.equal(slack.statusCode, 202, slack.body)

  const stdHeaders = { 'webhook-id': 'msg_2Kq1', 'webhook-timestamp': String(now), 'webhook-signature': `v1,${createHmac('sha256', key).update(`msg_2Kq1.${now}.${body}`).digest('base64')}` }
  const std = await post('std', body, stdHeaders)
  assert.equal(std.statusCode, 202, std.body)
  assert.equal(std.json().delivery_id, 'msg_2Kq1')
  assert.equal((await post('std', body, stdHeaders)).json().duplicate, true)

  const bearer = await post('global', body, { authorization: 'Bearer global-webhook-token-0123456789' })
  assert.equal(bearer.statusCode, 202, 'a hook without its own token takes the global webhooks.token')
  await idle()
})

test('a wake delivery runs the CLI in each allowed user\'s chat, wrapped as untrusted input, and counts the trigger', async (t) => {
  const { addHook, post, app, lastCli, paths, idle } = await setup(t, { config: { allowed_user_ids: [4242] }, env: { FAKE_CLI_REPLY: 'Noted the build.' } })
  const hook = await addHook({ id: 'ci', title: 'CI', prompt_template: 'Build {{build.status}} for {{repo.name}}: {{commits.0.message}}' })
  const res = await post('ci', JSON.stringify({ build: { status: 'failed' }, repo: { name: 'ductor' }, commits: [{ message: 'fix it' }] }), { authorization: `Bearer ${hook.token}` })
  assert.equal(res.statusCode, 202)
  const run = await waitFor(() => app.stores.runs.list({ kind: 'webhook', ref: 'ci' }).find((r) => r.status !== 'running'), 15_000, 'the wake run')
  assert.equal(run.status, 'success')
  assert.equal(String(run.chat_id), '4242')
  const cli = await lastCli()
  assert.equal(cli.cwd, paths.workspace)
  assert.equal(cli.env['DUCTOR_CHAT_ID'], '4242')
  const prompt = cli.argv.at(-1) ?? ''
  assert.match(prompt, /BEGIN UNTRUSTED EXTERNAL INPUT \(webhook "CI"\)/)
  assert.match(prompt, /Build failed for ductor: fix it/)
  assert.match(prompt, /END UNTRUSTED EXTERNAL INPUT/)
  assert.equal(app.stores.sessions.get('4242')?.provider_sessions.claude?.message_count, 1, 'the wake used the chat\'s session')
  const updated = await waitFor(() => { const h = app.webhooks.store.get('ci'); return h?.trigger_count === 1 ? h : undefined }, 5000, 'the trigger count')
  assert.equal(updated.last_error, null)
  assert.match(updated.last_triggered_at ?? '', /^\d{4}-/)
  const file = JSON.parse(await readFile(paths.webhooks, 'utf8'))
  assert.equal(file.hooks[0].trigger_count, 1)
  await idle()
})

test('a cron_task delivery runs isolated in its task folder; a missing folder is error:no_task_folder', async (t) => {
  const { app, post, lastCli, paths, idle } = await setup(t, { config: { allowed_user_ids: [4242] }, env: { FAKE_CLI_REPLY: 'Report written.' } })
  const created = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: admin,
    payload: { id: 'deploy', title: 'Deploy', mode: 'cron_task', task_folder: 'deploy-report', prompt_template: 'Deployed {{version}}', task_description: 'Report deployments.', model: 'sonnet', quiet_start: 0, quiet_end: 0 }
  })
  assert.equal(created.statusCode, 201, created.body)
  const res = await post('deploy', '{"version":"1.2.3"}', { authorization: `Bearer ${created.json().token}` })
  assert.equal(res.statusCode, 202)
  const run = await waitFor(() => app.stores.runs.list({ kind: 'webhook', ref: 'deploy' }).find((r) => r.status !== 'running'), 15_000, 'the task run')
  assert.equal(run.status, 'success', run.error ?? '')
  assert.equal(run.model, 'sonnet')
  const cli = await lastCli()
  assert.equal(cli.cwd, join(paths.cronTasks, 'deploy-report'))
  assert.ok(cli.argv.includes('--no-session-persistence'), 'a fresh, isolated session')
  assert.ok(!cli.argv.includes('--resume'))
  assert.match(cli.argv.at(-1) ?? '', /Deployed 1\.2\.3/)
  await waitFor(() => app.webhooks.store.get('deploy')?.trigger_count === 1 ? true : undefined, 5000, 'the trigger count')

  await app.webhooks.store.create({ id: 'lost', title: 'Lost', mode: 'cron_task', task_folder: 'not-there', prompt_template: 'x', quiet_start: 0, quiet_end: 0 })
  const lost = await post('lost', '{}', { authorization: `Bearer ${app.webhooks.store.get('lost')?.token ?? ''}` })
  assert.equal(lost.statusCode, 202)
  const failed = await waitFor(() => app.stores.runs.list({ kind: 'webhook', ref: 'lost' })[0], 10_000, 'the failed run')
  assert.equal(failed.status, 'error:no_task_folder')
  const hook = await waitFor(() => { const h = app.webhooks.store.get('lost'); return h?.trigger_count === 1 ? h : undefined }, 5000, 'the trigger count')
  assert.equal(hook.last_error, 'error:no_task_folder')
  await idle()
})

test('rotate-token: the old token is refused, the new one accepted; the test route renders and dispatches', async (t) => {
  const { app, post, idle } = await setup(t, { config: { allowed_user_ids: [7] }, env: { FAKE_CLI_REPLY: 'Test seen.' } })
  const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers: admin, payload: { id: 'ci', title: 'CI', mode: 'wake', prompt_template: 'PR {{pull_request.title}} by {{sender.login}}' } })
  const oldToken = created.json().token as string
  assert.equal((await post('ci', '{}', { authorization: `Bearer ${oldToken}` })).statusCode, 202)
  const rotated = await app.inject({ method: 'POST', url: '/api/webhooks/ci/rotate-token', headers: admin })
  assert.equal(rotated.statusCode, 200)
  const newToken = rotated.json().token as string
  assert.notEqual(newToken, oldToken)
  assertError(await post('ci', '{}', { authorization: `Bearer ${oldToken}` }), 401, 'unauthorized')
  assert.equal((await post('ci', '{}', { authorization: `Bearer ${newToken}` })).statusCode, 202)
  const read = await app.inject({ method: 'GET', url: '/api/webhooks/ci', headers: admin })
  assert.ok(!read.body.includes(newToken), 'GET does not show the token')

  const sample = await app.inject({ method: 'POST', url: '/api/webhooks/ci/test', headers: admin })
  assert.equal(sample.statusCode, 202, sample.body)
  assert.match(sample.json().rendered, /PR <pull_request\.title> by <sender\.login>/)
  const given = await app.inject({ method: 'POST', url: '/api/webhooks/ci/test', headers: admin, payload: { payload: { pull_request: { title: 'Fix tests' }, sender: { login: 'ana' } } } })
  assert.equal(given.statusCode, 202, given.body)
  const body = given.json()
  assert.equal(body.accepted, true)
  assert.equal(body.hook_id, 'ci')
  assert.match(body.delivery_id, /^test-/)
  assert.match(body.rendered, /BEGIN UNTRUSTED EXTERNAL INPUT[\s\S]*PR Fix tests by ana[\s\S]*END UNTRUSTED EXTERNAL INPUT/)
  assert.ok(!given.body.includes(newToken))
  await waitFor(() => app.webhooks.store.get('ci')?.trigger_count === 4 ? true : undefined, 20_000, 'four dispatches')
  const runs = app.stores.runs.list({ kind: 'webhook', ref: 'ci' })
  assert.equal(runs.length, 4)
  assert.ok(runs.every((r) => r.status === 'success'), JSON.stringify(runs.map((r) => r.status)))
  const missing = await app.inject({ method: 'POST', url: '/api/webhooks/nope/test', headers: admin, payload: {} })
  assertError(missing, 404, 'not_found')
  await idle()
})

test('with webhooks disabled every delivery is refused (403, naming webhooks.enabled); the admin routes still work', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/hooks/anything', headers: json, payload: '{}' })
  assertError(res, 403, 'forbidden')
  assert.match(res.json().message, /webhooks\.enabled is false/)
  const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers: admin, payload: { id: 'later', title: 'Later', mode: 'wake', prompt_template: 'x' } })
  assert.equal(created.statusCode, 201)
  assert.equal(created.json().ingress_enabled, false)
})

test('the journal keeps a delivery\'s body as it was sent; a pretty-printed or BOM-prefixed body is journaled as its parsed object', async (t) => {
  const { addHook, post, idle, paths } = await setup(t)
  const hook = await addHook({ id: 'ci', token: 'ci-token-0123456789abcdef' })
  const good = { authorization: `Bearer ${hook.token}` }
  const spaced = '{ "msg" :\t"spaced é" , "n": [1,2] }'
  assert.equal((await post('ci', spaced, good)).statusCode, 202)
  assert.equal((await post('ci', '{\n  "msg": "pretty"\n}', good)).statusCode, 202)
  assert.equal((await post('ci', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"msg":"bom"}')]), good)).statusCode, 202)
  await idle()
  const lines = (await readFile(join(paths.state, 'inbox.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"t":"e"'))
  assert.equal(lines.length, 3)
  assert.ok(lines[0]?.includes(`"payload":${spaced}}`), lines[0])
  const payloads = lines.map((l) => (JSON.parse(l) as { payload: { hook_id: string, payload: unknown } }).payload)
  assert.deepEqual(payloads.map((p) => [p.hook_id, p.payload]), [['ci', { msg: 'spaced é', n: [1, 2] }], ['ci', { msg: 'pretty' }], ['ci', { msg: 'bom' }]])
})

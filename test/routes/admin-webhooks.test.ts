import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { build, testConfig, ADMIN_TOKEN } from '../helper.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const SECRET = 'hmac-secret-value-do-not-leak-0123'

test('webhook CRUD: create shows the token once with the endpoint and auth help; reads never show secrets', async (t) => {
  const { app, paths } = await build(t, { config: testConfig({ webhooks: { enabled: true }, server: { public_url: 'https://bot.example.org/' } }) })
  const created = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: auth,
    payload: { id: 'ci', title: 'CI', mode: 'wake', prompt_template: 'Build {{build.status}}' }
  })
  assert.equal(created.statusCode, 201, created.body)
  const body = created.json()
  assert.equal(body.hook.id, 'ci')
  assert.equal(body.hook.auth_mode, 'bearer')
  assert.equal(body.hook.token_set, true)
  assert.equal(body.hook.trigger_count, 0)
  assert.match(body.token, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(body.endpoint_url, 'https://bot.example.org/hooks/ci')
  assert.equal(body.auth.header, 'Authorization')
  assert.match(body.auth.instructions, /Bearer <token>/)
  assert.equal(body.ingress_enabled, true)
  assert.equal('hmac_secret' in body.hook, false)
  assert.equal('token' in body.hook, false)

  const file = JSON.parse(await readFile(paths.webhooks, 'utf8'))
  assert.equal(file.hooks[0].token, body.token, 'the token is stored in webhooks.json')

  const signed = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: auth,
    payload: { id: 'gh', title: 'GitHub', mode: 'wake', prompt_template: 'PR {{pull_request.title}}', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: SECRET }
  })
  assert.equal(signed.statusCode, 201, signed.body)
  assert.equal(signed.json().token, undefined)
  assert.equal(signed.json().hook.hmac_secret_set, true)
  assert.equal(signed.json().auth.header, 'X-Hub-Signature-256')

  const list = await app.inject({ method: 'GET', url: '/api/webhooks', headers: auth })
  assert.equal(list.statusCode, 200)
  assert.deepEqual(list.json().hooks.map((h: { hook: { id: string } }) => h.hook.id), ['ci', 'gh'])
  const one = await app.inject({ method: 'GET', url: '/api/webhooks/gh', headers: auth })
  assert.equal(one.statusCode, 200)
  for (const res of [list, one, signed]) {
    assert.ok(!res.body.includes(SECRET), 'the hmac secret is never shown')
    assert.ok(!res.body.includes(body.token), 'the bearer token is not shown outside create/rotate')
  }

  const patched = await app.inject({ method: 'PATCH', url: '/api/webhooks/ci', headers: auth, payload: { enabled: false, description: 'builds' } })
  assert.equal(patched.statusCode, 200, patched.body)
  assert.equal(patched.json().hook.enabled, false)
  assert.equal(patched.json().hook.description, 'builds')
  assert.equal(patched.json().hook.prompt_template, 'Build {{build.status}}', 'fields not given keep their value')
  assert.equal(patched.json().hook.token_set, true)
  assert.ok(!patched.body.includes(body.token))

  const short = await app.inject({ method: 'PATCH', url: '/api/webhooks/ci', headers: auth, payload: { token: 'short' } })
  assert.equal(short.statusCode, 400)
  assert.ok(!short.body.includes('short"'), 'the refused token is not echoed')
  const global = await app.inject({ method: 'PATCH', url: '/api/webhooks/ci', headers: auth, payload: { token: '' } })
  assert.equal(global.statusCode, 200)
  assert.equal(global.json().hook.token_set, false)
  assert.match(global.json().auth.instructions, /global webhooks\.token/)

  const deleted = await app.inject({ method: 'DELETE', url: '/api/webhooks/ci', headers: auth })
  assert.deepEqual(deleted.json(), { deleted: true, id: 'ci' })
  const gone = await app.inject({ method: 'GET', url: '/api/webhooks/ci', headers: auth })
  assert.equal(gone.statusCode, 404)
  assert.deepEqual(Object.keys(gone.json()).sort(), ['error', 'message'])
})

test('webhook create and patch refuse bad input with a message naming the field', async (t) => {
  const { app } = await build(t)
  const cases: Array<[Record<string, unknown>, RegExp, number]> = [
    [{ id: 'Bad Id', title: 'x', mode: 'wake', prompt_template: 'x' }, /id must be 1-64 characters/, 400],
    [{ id: 'x', title: 'x', mode: 'sleep', prompt_template: 'x' }, /mode must be one of wake, cron_task/, 400],
    [{ id: 'x', title: 'x', mode: 'wake', prompt_template: 'x', auth_mode: 'basic' }, /auth_mode must be one of bearer, hmac, standard/, 400],
    [{ id: 'x', title: 'x', mode: 'cron_task', prompt_template: 'x' }, /task_folder is required/, 400],
    [{ id: 'x', title: 'x', mode: 'wake', prompt_template: 'x', auth_mode: 'hmac' }, /hmac_secret is required/, 400],
    [{ id: 'x', title: 'x', mode: 'wake', prompt_template: 'x', auth_mode: 'standard', hmac_secret: 'nope!' }, /Standard Webhooks secret/, 400],
    [{ id: 'x', title: 'x', mode: 'wake', prompt_template: 'x', colour: 'red' }, /unknown field "colour"/, 400],
    [{ id: 'x', title: 'x', mode: 'wake', prompt_template: 'x', trigger_count: 5 }, /trigger_count is maintained by the service/, 400]
  ]
  for (const [payload, message, status] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload })
    assert.equal(res.statusCode, status, JSON.stringify(payload))
    assert.match(res.json().message, message)
  }
  const ok = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'x', title: 'x', mode: 'wake', prompt_template: 'x' } })
  assert.equal(ok.statusCode, 201)
  const again = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'x', title: 'x', mode: 'wake', prompt_template: 'x' } })
  assert.equal(again.statusCode, 409)
  const rename = await app.inject({ method: 'PATCH', url: '/api/webhooks/x', headers: auth, payload: { id: 'y' } })
  assert.equal(rename.statusCode, 400)
  assert.match(rename.json().message, /id cannot be changed/)
  const hmacRotate = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'h', title: 'h', mode: 'wake', prompt_template: 'x', auth_mode: 'hmac', hmac_preset: 'stripe', hmac_secret: 'whsec_abc' } })
  assert.equal(hmacRotate.statusCode, 201)
  const rotate = await app.inject({ method: 'POST', url: '/api/webhooks/h/rotate-token', headers: auth })
  assert.equal(rotate.statusCode, 400)
  assert.match(rotate.json().message, /only bearer hooks/)
})

test('a cron_task webhook gets its task folder with the task description', async (t) => {
  const { app, paths } = await build(t)
  const res = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: auth,
    payload: { id: 'deploy', title: 'Deploy report', mode: 'cron_task', task_folder: 'deploy-report', prompt_template: 'Deployed {{version}}', task_description: 'Summarise the deployment.' }
  })
  assert.equal(res.statusCode, 201, res.body)
  const folder = join(paths.cronTasks, 'deploy-report')
  assert.ok((await stat(join(folder, 'CLAUDE.md'))).isFile())
  assert.match(await readFile(join(folder, 'TASK_DESCRIPTION.md'), 'utf8'), /Summarise the deployment\./)
  const patched = await app.inject({ method: 'PATCH', url: '/api/webhooks/deploy', headers: auth, payload: { task_description: 'Only failures.' } })
  assert.equal(patched.statusCode, 200, patched.body)
  assert.equal(await readFile(join(folder, 'TASK_DESCRIPTION.md'), 'utf8'), 'Only failures.\n')
})

test('PATCH null resets a webhook field to "not set" (the global value or the default), as sent: never "" or 0', async (t) => {
  const { app, paths } = await build(t)
  const created = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: auth,
    payload: { id: 'gh', title: 'GitHub', mode: 'cron_task', task_folder: 'gh', prompt_template: 'PR {{n}}', provider: 'codex', model: 'gpt-5', permission_mode: 'ask', quiet_start: 1, quiet_end: 2, dependency: 'gpu', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: SECRET, dedupe_window_seconds: 60 }
  })
  assert.equal(created.statusCode, 201, created.body)
  const fields = ['provider', 'model', 'permission_mode', 'quiet_start', 'quiet_end', 'dependency', 'hmac_preset', 'dedupe_window_seconds']
  const reset = await app.inject({ method: 'PATCH', url: '/api/webhooks/gh', headers: auth, payload: { ...Object.fromEntries(fields.map((f) => [f, null])), hmac_header: 'X-Sig' } })
  assert.equal(reset.statusCode, 200, reset.body)
  const stored = JSON.parse(await readFile(paths.webhooks, 'utf8')).hooks[0]
  for (const f of fields) {
    assert.equal(reset.json().hook[f], null, `${f} in the answer`)
    assert.equal(stored[f], null, `${f} in webhooks.json (a null must not become "" or 0: quiet hour 0 is midnight, a dedupe window of 0 is off)`)
  }
  const empty = await app.inject({ method: 'PATCH', url: '/api/webhooks/gh', headers: auth, payload: { provider: '' } })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.json().message, /provider must be one of claude, codex, null/)
  const text = await app.inject({ method: 'PATCH', url: '/api/webhooks/gh', headers: auth, payload: { quiet_start: '7' } })
  assert.equal(text.statusCode, 400, 'a JSON body is taken as sent: "7" is not an hour')
})

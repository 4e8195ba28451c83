// A PATCH of a cron job or a webhook is checked whole — the merged record and the task folder it
// would use — before anything is saved: a bad one answers 400 naming task_folder, what is wrong and
// what is allowed; GET shows the old record and the store file is byte for byte as it was.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, tempDir, testConfig, ADMIN_TOKEN } from '../helper.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** Next to the real folders: `escape` (a symlink to a folder outside cron_tasks) and `notes` (a file). */
async function traps (t: import('node:test').TestContext, cronTasks: string): Promise<void> {
  const outside = await tempDir(t)
  await mkdir(cronTasks, { recursive: true })
  await symlink(outside, join(cronTasks, 'escape'))
  await writeFile(join(cronTasks, 'notes'), 'not a folder\n')
}

test('PATCH /api/cron/:id with a task folder that cannot be used: 400, nothing saved', async (t) => {
  const { app, paths } = await build(t)
  const created = await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'daily', title: 'Daily', schedule: '0 9 * * *', task_description: 'say hi' } })
  assert.equal(created.statusCode, 201, created.body)
  await traps(t, paths.cronTasks)
  const before = await readFile(paths.cronJobs, 'utf8')
  const old = (await app.inject({ method: 'GET', url: '/api/cron/daily', headers: auth })).json()

  for (const [patch, wrong] of [
    [{ task_folder: 'escape' }, /task_folder "escape" points outside workspace\/cron_tasks; allowed: a folder inside workspace\/cron_tasks/],
    [{ task_folder: 'notes', title: 'Renamed' }, /task_folder "notes" exists in workspace\/cron_tasks but is not a folder; allowed:/],
    [{ task_folder: 'escape', task_description: 'new text' }, /task_folder "escape" points outside/]
  ] as const) {
    const res = await app.inject({ method: 'PATCH', url: '/api/cron/daily', headers: auth, payload: patch })
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(res.json().error, 'bad_request')
    assert.match(res.json().message, wrong)
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/cron/daily', headers: auth })).json(), old, 'GET shows the old job')
    assert.equal(await readFile(paths.cronJobs, 'utf8'), before, 'cron_jobs.json is unchanged')
  }
  const good = await app.inject({ method: 'PATCH', url: '/api/cron/daily', headers: auth, payload: { task_folder: 'morning' } })
  assert.equal(good.statusCode, 200, good.body)
  assert.equal(good.json().job.task_folder, 'morning')
})

test('PATCH /api/webhooks/:id with a task folder that cannot be used: 400, nothing saved', async (t) => {
  const { app, paths } = await build(t, { config: testConfig({ webhooks: { enabled: true } }) })
  const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'build', title: 'Build', mode: 'cron_task', task_folder: 'build', prompt_template: 'Build {{status}}' } })
  assert.equal(created.statusCode, 201, created.body)
  const wake = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'ping', title: 'Ping', mode: 'wake', prompt_template: 'Ping' } })
  assert.equal(wake.statusCode, 201, wake.body)
  await traps(t, paths.cronTasks)
  const before = await readFile(paths.webhooks, 'utf8')
  const old = {
    build: (await app.inject({ method: 'GET', url: '/api/webhooks/build', headers: auth })).json(),
    ping: (await app.inject({ method: 'GET', url: '/api/webhooks/ping', headers: auth })).json()
  }

  for (const [id, patch, wrong] of [
    ['build', { task_folder: 'escape' }, /task_folder "escape" points outside workspace\/cron_tasks; allowed: a folder inside workspace\/cron_tasks/],
    ['build', { task_folder: 'notes', description: 'nightly' }, /task_folder "notes" exists in workspace\/cron_tasks but is not a folder/],
    ['ping', { mode: 'cron_task', task_folder: 'escape' }, /task_folder "escape" points outside/],
    ['ping', { mode: 'cron_task', task_folder: 'Bad Name' }, /task_folder "Bad Name" is not a valid name; allowed: lowercase letters, digits, - and _/]
  ] as const) {
    const res = await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: auth, payload: patch })
    assert.equal(res.statusCode, 400, `${JSON.stringify(patch)}: ${res.body}`)
    assert.equal(res.json().error, 'bad_request')
    assert.match(res.json().message, wrong)
    assert.deepEqual((await app.inject({ method: 'GET', url: `/api/webhooks/${id}`, headers: auth })).json(), old[id], 'GET shows the old hook')
    assert.equal(await readFile(paths.webhooks, 'utf8'), before, 'webhooks.json is unchanged')
  }
  const good = await app.inject({ method: 'PATCH', url: '/api/webhooks/ping', headers: auth, payload: { mode: 'cron_task', task_folder: 'pings' } })
  assert.equal(good.statusCode, 200, good.body)
  assert.equal(good.json().hook.task_folder, 'pings')
})

test('PATCH /api/config refuses what is not a bot token (as ductor init does) and says "a number too large" for 1e400, not null; config.json is unchanged', async (t) => {
  const { app, paths } = await build(t)
  const before = await readFile(paths.config, 'utf8')
  for (const [body, wrong] of [
    ['{"telegram_token":"garbage"}', /^body\/telegram_token: this is not a bot token; @BotFather gives one like 123456789:AAH/],
    ['{"telegram_token":"12345:short"}', /^body\/telegram_token: this is not a bot token/],
    ['{"cli_timeout":1e400}', /^body\/cli_timeout: a number too large is not allowed; expected/]
  ] as const) {
    const res = await app.inject({ method: 'PATCH', url: '/api/config', headers: { ...auth, 'content-type': 'application/json' }, payload: body })
    assert.equal(res.statusCode, 400, res.body)
    assert.match(res.json().message, wrong)
    assert.equal(await readFile(paths.config, 'utf8'), before, 'config.json is unchanged')
  }
  const ok = await app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload: { telegram_token: '123456789:AAHabcdefghijklmnopqrstuvwxyz012345678' } })
  assert.equal(ok.statusCode, 200, ok.body)
  const off = await app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload: { telegram_token: '' } })
  assert.equal(off.statusCode, 200, '"" turns Telegram off')
})

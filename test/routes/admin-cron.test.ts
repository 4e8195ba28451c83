import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, fakeClis, tempDir, testConfig, waitFor, ADMIN_TOKEN } from '../helper.ts'
import { createRunHistory } from '../../src/store/run-history.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
/** 2026-01-15 10:00:30 UTC, a winter day: Berlin is UTC+1, New York UTC-5. */
const NOW = Date.parse('2026-01-15T10:00:30Z')
const clock = { now: () => NOW }

async function setup (t: Parameters<typeof build>[0], env: NodeJS.ProcessEnv = {}) {
  const bin = await fakeClis(t)
  return await build(t, { clock, config: testConfig({ user_timezone: 'America/New_York' }), env: { ...bin.env, ...env } })
}

const exists = async (path: string): Promise<boolean> => await stat(path).then(() => true, () => false)

test('POST /api/cron creates a job with its task folder and answers with the next five runs in the job\'s zone', async (t) => {
  const { app, paths } = await setup(t)
  const res = await app.inject({
    method: 'POST',
    url: '/api/cron',
    headers: auth,
    payload: { id: 'hn-digest', title: 'HN digest', schedule: '0 8 * * *', timezone: 'Europe/Berlin', description: 'Morning AI stories', task_description: 'Check Hacker News and send me the AI stories.' }
  })
  assert.equal(res.statusCode, 201, res.body)
  const body = res.json()
  assert.equal(body.job.id, 'hn-digest')
  assert.equal(body.job.task_folder, 'hn-digest')
  assert.equal(body.job.enabled, true)
  assert.equal(body.zone, 'Europe/Berlin')
  assert.deepEqual(body.next_runs, ['2026-01-16T07:00:00.000Z', '2026-01-17T07:00:00.000Z', '2026-01-18T07:00:00.000Z', '2026-01-19T07:00:00.000Z', '2026-01-20T07:00:00.000Z'])
  assert.equal(body.running, false)

  const folder = join(paths.cronTasks, 'hn-digest')
  assert.match(await readFile(join(folder, 'TASK_DESCRIPTION.md'), 'utf8'), /Check Hacker News and send me the AI stories\./)
  for (const file of ['CLAUDE.md', 'AGENTS.md', 'hn-digest_MEMORY.md', 'scripts']) assert.ok(await exists(join(folder, file)), file)
  const file = JSON.parse(await readFile(paths.cronJobs, 'utf8'))
  assert.equal(file.jobs[0].schedule, '0 8 * * *')
  assert.equal(file.jobs[0].timezone, 'Europe/Berlin')

  const noZone = await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'evening', title: 'Evening', schedule: '30 18 * * 1-5' } })
  assert.equal(noZone.statusCode, 201)
  assert.equal(noZone.json().zone, 'America/New_York', 'a job without a zone runs in the user\'s')
  assert.equal(noZone.json().next_runs[0], '2026-01-15T23:30:00.000Z')
  assert.match(await readFile(join(paths.cronTasks, 'evening', 'TASK_DESCRIPTION.md'), 'utf8'), /Evening/, 'the title stands in for a missing description')

  const again = await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'hn-digest', title: 'Again', schedule: '0 9 * * *' } })
  assert.equal(again.statusCode, 409)
  assert.match(again.json().message, /already exists/)
})

test('POST /api/cron refuses bad input with 400 naming the field and what is allowed, and creates nothing', async (t) => {
  const { app, paths } = await setup(t)
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ id: 'a', title: 'A', schedule: '0 8 * *' }, /schedule "0 8 \* \*" must have exactly 5 fields: minute hour day-of-month month day-of-week/],
    [{ id: 'a', title: 'A', schedule: '61 8 * * *' }, /schedule "61 8 \* \* \*" is not a valid cron expression/],
    [{ id: 'a', title: 'A', schedule: '@sometimes' }, /schedule "@sometimes" is not supported; use 5 fields or one of @yearly/],
    [{ id: 'a', title: 'A', schedule: '0 8 * * *', timezone: 'Mars/Olympus' }, /timezone "Mars\/Olympus" is not a known IANA time zone \(e\.g\. Europe\/Berlin\)/],
    [{ id: 'Bad Id', title: 'A', schedule: '0 8 * * *' }, /^id in the body must be 1-64 characters: lower-case letters, digits/],
    [{ id: 'a', schedule: '0 8 * * *' }, /^title in the body is missing; it is required$/],
    [{ id: 'a', title: 'A', schedule: '0 8 * * *', provider: 'gpt' }, /^provider in the body must be one of claude, codex/],
    [{ id: 'a', title: 'A', schedule: '0 8 * * *', quiet_start: 24 }, /^quiet_start in the body must be at most 23/],
    [{ id: 'a', title: 'A', schedule: '0 8 * * *', colour: 'red' }, /^colour in the body is not a known field \(unknown fields are refused, not dropped\)$/]
  ]
  for (const [payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload })
    assert.equal(res.statusCode, 400, JSON.stringify(payload))
    assert.equal(res.json().error, 'bad_request')
    assert.match(res.json().message, message)
  }
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/cron', headers: auth })).json(), { jobs: [] })
  assert.equal(await exists(join(paths.cronTasks, 'a')), false, 'no folder for a refused job')
})

test('GET /api/cron lists jobs, GET /api/cron/:id reads one, unknown ids are 404', async (t) => {
  const { app } = await setup(t)
  for (const id of ['one', 'two']) {
    assert.equal((await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id, title: id, schedule: '*/30 * * * *', timezone: 'UTC' } })).statusCode, 201)
  }
  const list = (await app.inject({ method: 'GET', url: '/api/cron', headers: auth })).json()
  assert.deepEqual(list.jobs.map((v: { job: { id: string } }) => v.job.id), ['one', 'two'])
  assert.deepEqual(list.jobs[0].next_runs.slice(0, 2), ['2026-01-15T10:30:00.000Z', '2026-01-15T11:00:00.000Z'])
  const one = await app.inject({ method: 'GET', url: '/api/cron/two', headers: auth })
  assert.equal(one.statusCode, 200)
  assert.equal(one.json().job.title, 'two')
  assert.equal(one.json().next_runs.length, 5)
  const missing = await app.inject({ method: 'GET', url: '/api/cron/three', headers: auth })
  assert.equal(missing.statusCode, 404)
  assert.deepEqual(missing.json(), { error: 'not_found', message: 'no cron job "three"; list them with GET /api/cron' })
})

test('PATCH /api/cron/:id changes a job: a new schedule gives new next runs, bad values are refused, unknown ids are 404', async (t) => {
  const { app, paths } = await setup(t)
  await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'news', title: 'News', schedule: '0 8 * * *', timezone: 'UTC', task_description: 'Old task.' } })
  const res = await app.inject({ method: 'PATCH', url: '/api/cron/news', headers: auth, payload: { schedule: '30 7 * * *', timezone: 'Europe/Berlin', model: 'sonnet', quiet_start: 22, quiet_end: 6 } })
  assert.equal(res.statusCode, 200, res.body)
  const body = res.json()
  assert.equal(body.job.schedule, '30 7 * * *')
  assert.equal(body.job.model, 'sonnet')
  assert.equal(body.job.quiet_start, 22)
  assert.equal(body.zone, 'Europe/Berlin')
  assert.equal(body.next_runs[0], '2026-01-16T06:30:00.000Z')
  assert.equal(JSON.parse(await readFile(paths.cronJobs, 'utf8')).jobs[0].schedule, '30 7 * * *', 'persisted')

  const described = await app.inject({ method: 'PATCH', url: '/api/cron/news', headers: auth, payload: { task_description: 'New task: only the top three.' } })
  assert.equal(described.statusCode, 200)
  assert.equal(await readFile(join(paths.cronTasks, 'news', 'TASK_DESCRIPTION.md'), 'utf8'), 'New task: only the top three.\n')

  const off = await app.inject({ method: 'PATCH', url: '/api/cron/news', headers: auth, payload: { enabled: false } })
  assert.equal(off.json().job.enabled, false)
  assert.deepEqual(off.json().next_runs, [], 'a disabled job has no next runs')

  const bad = await app.inject({ method: 'PATCH', url: '/api/cron/news', headers: auth, payload: { schedule: 'every morning' } })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.json().message, /schedule "every morning" must have exactly 5 fields/)
  const badZone = await app.inject({ method: 'PATCH', url: '/api/cron/news', headers: auth, payload: { timezone: 'Berlin' } })
  assert.equal(badZone.statusCode, 400)
  assert.match(badZone.json().message, /timezone "Berlin" is not a known IANA time zone/)
  assert.equal((await app.inject({ method: 'GET', url: '/api/cron/news', headers: auth })).json().job.schedule, '30 7 * * *', 'unchanged after refusals')

  const missing = await app.inject({ method: 'PATCH', url: '/api/cron/nope', headers: auth, payload: { enabled: true } })
  assert.equal(missing.statusCode, 404)
  assert.match(missing.json().message, /no cron job "nope"/)
})

test('DELETE /api/cron/:id keeps the task folder unless ?delete_folder=true', async (t) => {
  const { app, paths } = await setup(t)
  for (const id of ['keep', 'drop']) await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id, title: id, schedule: '0 8 * * *' } })
  const kept = await app.inject({ method: 'DELETE', url: '/api/cron/keep', headers: auth })
  assert.deepEqual(kept.json(), { deleted: true, folder_deleted: false })
  assert.ok(await exists(join(paths.cronTasks, 'keep', 'TASK_DESCRIPTION.md')), 'the folder is kept by default')
  const dropped = await app.inject({ method: 'DELETE', url: '/api/cron/drop?delete_folder=true', headers: auth })
  assert.deepEqual(dropped.json(), { deleted: true, folder_deleted: true })
  assert.equal(await exists(join(paths.cronTasks, 'drop')), false)
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/cron', headers: auth })).json(), { jobs: [] })
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/cron/keep', headers: auth })).statusCode, 404)
  const badFlag = await app.inject({ method: 'DELETE', url: '/api/cron/keep?delete_folder=maybe', headers: auth })
  assert.equal(badFlag.statusCode, 400)
})

test('POST /api/cron/:id/run starts the job now (202); the run shows in /api/cron/:id/runs and /api/runs as kind cron', async (t) => {
  const { app } = await setup(t)
  await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'manual', title: 'Manual', schedule: '0 3 * * *', agent_instruction: '[[reply:done by hand]] go' } })
  const res = await app.inject({ method: 'POST', url: '/api/cron/manual/run', headers: auth })
  assert.equal(res.statusCode, 202)
  const { run_id: runId, ...rest } = res.json()
  assert.deepEqual(rest, { started: true, job_id: 'manual' })
  await waitFor(() => app.automation.cron.store.get('manual')?.last_run_status ?? undefined, 20_000, 'the run to end')
  const runs = (await app.inject({ method: 'GET', url: '/api/cron/manual/runs', headers: auth })).json().runs
  assert.equal(runs[0]?.status, 'success')
  assert.equal(runs[0]?.id, runId, 'the id the start answered is the run\'s')
  const one = (await app.inject({ method: 'GET', url: `/api/runs/${String(runId)}`, headers: auth })).json()
  assert.equal(one.reply, 'done by hand')
  const all = (await app.inject({ method: 'GET', url: '/api/runs?kind=cron', headers: auth })).json().runs
  assert.equal(all.length, 1)
  assert.equal(all[0].ref, 'manual')
  assert.equal(all[0].kind, 'cron')
  assert.equal(app.automation.cron.store.get('manual')?.last_run_status, 'success')
  assert.equal((await app.inject({ method: 'GET', url: '/api/cron/manual', headers: auth })).json().job.last_run_status, 'success')

  assert.equal((await app.inject({ method: 'POST', url: '/api/cron/nope/run', headers: auth })).statusCode, 404)
  assert.equal((await app.inject({ method: 'GET', url: '/api/cron/nope/runs', headers: auth })).statusCode, 404)
})

test('a second run now while the job runs is 409, and deleting a running job is refused', async (t) => {
  const { app } = await setup(t)
  await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'slow', title: 'Slow', schedule: '0 3 * * *', agent_instruction: '[[hang]] go' } })
  assert.equal((await app.inject({ method: 'POST', url: '/api/cron/slow/run', headers: auth })).statusCode, 202)
  assert.equal((await app.inject({ method: 'GET', url: '/api/cron/slow', headers: auth })).json().running, true)
  const twice = await app.inject({ method: 'POST', url: '/api/cron/slow/run', headers: auth })
  assert.equal(twice.statusCode, 409)
  assert.match(twice.json().message, /already running/)
  const del = await app.inject({ method: 'DELETE', url: '/api/cron/slow', headers: auth })
  assert.equal(del.statusCode, 409)
  const [process] = await waitFor(() => app.runner.registry.list().length === 1 ? app.runner.registry.list() : undefined, 10_000, 'the CLI to start')
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/runs/${process?.runId ?? ''}`, headers: auth })).json().aborted, true)
  await waitFor(() => app.automation.cron.running().length === 0 ? true : undefined, 10_000, 'the job to stop')
})

test('task folders stay inside cron_tasks: a symlinked folder refuses the job, a symlinked description is replaced, not written through', async (t) => {
  const { app, paths } = await setup(t)
  const outside = await tempDir(t)
  await mkdir(paths.cronTasks, { recursive: true })
  await symlink(outside, join(paths.cronTasks, 'escape'))
  const res = await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'escape', title: 'Escape', schedule: '0 8 * * *' } })
  assert.equal(res.statusCode, 403)
  assert.match(res.json().message, /points outside cron_tasks/)
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/cron', headers: auth })).json(), { jobs: [] }, 'no job without its folder')

  await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'inside', title: 'Inside', schedule: '0 8 * * *' } })
  const secret = join(outside, 'secret.txt')
  await writeFile(secret, 'keep me\n')
  const description = join(paths.cronTasks, 'inside', 'TASK_DESCRIPTION.md')
  await rm(description)
  await symlink(secret, description)
  const patched = await app.inject({ method: 'PATCH', url: '/api/cron/inside', headers: auth, payload: { task_description: 'New text.' } })
  assert.equal(patched.statusCode, 200)
  assert.equal(await readFile(secret, 'utf8'), 'keep me\n')
  assert.equal(await readFile(description, 'utf8'), 'New text.\n')
})

test('the cron routes need the admin token', async (t) => {
  const { app } = await setup(t)
  const routes: Array<[string, string]> = [['GET', '/api/cron'], ['POST', '/api/cron'], ['GET', '/api/cron/x'], ['PATCH', '/api/cron/x'], ['DELETE', '/api/cron/x'], ['POST', '/api/cron/x/run'], ['GET', '/api/cron/x/runs']]
  for (const [method, url] of routes) {
    const res = await app.inject({ method: method as 'GET', url, payload: method === 'POST' || method === 'PATCH' ? { id: 'x', title: 'x', schedule: '0 8 * * *' } : undefined })
    assert.equal(res.statusCode, 401, `${method} ${url}`)
    assert.equal(res.json().error, 'unauthorized')
  }
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/cron', headers: auth })).json(), { jobs: [] }, 'nothing was created')
})

test('DELETE /api/cron/:id?delete_folder=true keeps a folder that a cron_task webhook still uses', async (t) => {
  const { app, paths } = await build(t)
  const made = await app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'report', title: 'Report', schedule: '0 9 * * *', task_folder: 'shared', task_description: 'Write the report.' } })
  assert.equal(made.statusCode, 201, made.body)
  const hook = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'on-push', title: 'On push', mode: 'cron_task', task_folder: 'shared', prompt_template: 'Pushed {{ref}}' } })
  assert.equal(hook.statusCode, 201, hook.body)
  const del = await app.inject({ method: 'DELETE', url: '/api/cron/report?delete_folder=true', headers: auth })
  assert.deepEqual(del.json(), { deleted: true, folder_deleted: false })
  assert.ok((await stat(join(paths.cronTasks, 'shared', 'TASK_DESCRIPTION.md'))).isFile())
})

test('a cron run the last process died under (kill -9) is the job\'s last run after the restart: error:interrupted in cron_jobs.json and the API', async (t) => {
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const first = await build(t, { home, clock, config: testConfig(), env: bin.env })
  const created = await first.app.inject({ method: 'POST', url: '/api/cron', headers: auth, payload: { id: 'nightly', title: 'Nightly', schedule: '0 3 * * *', task_description: 'Report.' } })
  assert.equal(created.statusCode, 201, created.body)
  await first.stop()
  // What a kill -9 mid-run leaves: the run recorded `running`, the job's last run an older one.
  const runs = await createRunHistory({ path: join(first.paths.state, 'runs.jsonl') })
  await runs.start({ kind: 'cron', ref: 'nightly', provider: 'claude', model: 'opus' })
  await runs.close()
  const second = await build(t, { home, clock, config: null, env: bin.env })
  const job = (await second.app.inject({ method: 'GET', url: '/api/cron/nightly', headers: auth })).json().job
  assert.equal(job.last_run_status, 'error:interrupted', JSON.stringify(job))
  await waitFor(async () => JSON.parse(await readFile(second.paths.cronJobs, 'utf8')).jobs[0].last_run_status === 'error:interrupted' ? true : undefined, 5000, 'cron_jobs.json to say so')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, writeFile, readdir, rm, copyFile, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import { createCronStore } from '../../src/automation/cron-store.ts'
import type { Logger } from '../../src/logger-types.ts'

const FIXTURE = fileURLToPath(new URL('./fixtures/python-cron_jobs.json', import.meta.url))
const NOW = Date.parse('2026-05-01T10:00:00Z')

function fakeLogger () {
  const lines: Array<{ level: string, msg: string }> = []
  const at = (level: string) => (_obj: unknown, msg?: string) => { lines.push({ level, msg: msg ?? '' }) }
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger
  return { lines, logger }
}

async function setup (t: TestContext, withFixture = false) {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-cron-store-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'cron_jobs.json')
  if (withFixture) await copyFile(FIXTURE, path)
  const { lines, logger } = fakeLogger()
  const store = createCronStore({ path, logger, clock: { now: () => NOW } })
  return { dir, path, store, lines }
}

const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, 'utf8'))

const basic = { id: 'daily-report', title: 'Daily report', schedule: '0 9 * * *' }

test('an original Python cron_jobs.json loads, with defaults for what it leaves out', async (t) => {
  const { store } = await setup(t, true)
  assert.deepEqual(await store.load(), { status: 'ok', count: 3 })
  assert.deepEqual(store.list().map((j) => j.id), ['weather-check', 'linkedin-scraper', 'minimal'])
  const weather = store.get('weather-check')!
  assert.equal(weather.timezone, 'Europe/Berlin')
  assert.equal((weather as Record<string, unknown>).chat_id, 123456789, 'unknown fields are kept')
  const minimal = store.get('minimal')!
  assert.equal(minimal.description, '')
  assert.equal(minimal.enabled, true)
  assert.equal(minimal.timezone, '')
  assert.deepEqual(minimal.cli_parameters, [])
  assert.equal(minimal.quiet_start, null)
  assert.equal(store.get('linkedin-scraper')!.dependency, 'chrome_browser')
})

test('writing back keeps every field of the original file, unknown ones included', async (t) => {
  const { path, store } = await setup(t, true)
  await store.load()
  const original = await readJson(FIXTURE)
  assert.equal(await store.recordRun('minimal', { status: 'error:exit_1', at: NOW }), true)
  const written = await readJson(path)
  assert.deepEqual(written.jobs[0], original.jobs[0], 'an untouched job is written back exactly')
  assert.deepEqual(written.jobs[1], original.jobs[1])
  assert.deepEqual(written.jobs[2], {
    ...original.jobs[2],
    description: '',
    enabled: true,
    created_at: '',
    last_run_at: '2026-05-01T10:00:00.000Z',
    last_run_status: 'error:exit_1',
    provider: null,
    model: null,
    reasoning_effort: null,
    cli_parameters: [],
    quiet_start: null,
    quiet_end: null,
    dependency: null
  })
})

test('create fills defaults, persists, and is visible by id at once', async (t) => {
  const { path, store } = await setup(t)
  assert.deepEqual(await store.load(), { status: 'missing', count: 0 })
  const job = await store.create({ ...basic, timezone: 'Europe/Berlin', dependency: 'chrome' })
  assert.deepEqual(job, {
    id: 'daily-report',
    title: 'Daily report',
    description: '',
    schedule: '0 9 * * *',
    task_folder: 'daily-report',
    agent_instruction: job.agent_instruction,
    enabled: true,
    timezone: 'Europe/Berlin',
    created_at: '2026-05-01T10:00:00.000Z',
    last_run_at: null,
    last_run_status: null,
    provider: null,
    model: null,
    reasoning_effort: null,
    cli_parameters: [],
    quiet_start: null,
    quiet_end: null,
    dependency: 'chrome',
    permission_mode: null
  })
  assert.match(job.agent_instruction, /TASK_DESCRIPTION\.md/)
  assert.equal(store.get('daily-report'), job)
  // A null permission_mode (the global one) is not written: the file keeps the Python version's shape.
  const { permission_mode: _mode, ...written } = job
  assert.deepEqual((await readJson(path)).jobs, [written])
  const asking = await store.create({ ...basic, id: 'asking', permission_mode: 'ask' })
  assert.equal((await readJson(path)).jobs[1].permission_mode, 'ask')
  assert.equal((await store.update(asking.id, { permission_mode: null })).permission_mode, null)
  assert.equal('permission_mode' in (await readJson(path)).jobs[1], false)
})

test('create refuses bad ids, duplicates, bad schedules, unknown zones and unknown fields', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await store.create(basic)
  const bad: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...basic, id: 'Daily' }, 'bad_request', /id/],
    [{ ...basic, id: '-x' }, 'bad_request', /id/],
    [{ ...basic, id: '../etc' }, 'bad_request', /id/],
    [{ ...basic, id: 'a'.repeat(65) }, 'bad_request', /id/],
    [{ ...basic, id: 'x', schedule: '0 0 9 * * *' }, 'bad_request', /exactly 5 fields/],
    [{ ...basic, id: 'x', schedule: '99 * * * *' }, 'bad_request', /not a valid cron expression/],
    [{ ...basic, id: 'x', timezone: 'Mars/Base' }, 'bad_request', /not a known IANA time zone/],
    [{ ...basic, id: 'x', quiet_start: 24 }, 'bad_request', /quiet_start/],
    [{ ...basic, id: 'x', provider: 'gemini' }, 'bad_request', /provider/],
    [{ ...basic, id: 'x', colour: 'red' }, 'bad_request', /colour/],
    [{ ...basic, id: 'x', task_folder: '../../x' }, 'bad_request', /task_folder/],
    [basic, 'conflict', /already exists/]
  ]
  for (const [input, code, message] of bad) {
    await assert.rejects(store.create(input as never), (err: any) => err.code === code && message.test(err.message), JSON.stringify(input))
  }
  assert.deepEqual((await readJson(path)).jobs.map((j: any) => j.id), ['daily-report'])
})

test('update changes editable fields and validates; remove and recordRun work by id', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await store.create(basic)
  const updated = await store.update('daily-report', { schedule: '30 7 * * 1-5', enabled: false, quiet_start: 0, quiet_end: 0 })
  assert.equal(updated.schedule, '30 7 * * 1-5')
  assert.equal(updated.enabled, false)
  assert.equal(updated.created_at, '2026-05-01T10:00:00.000Z')
  await assert.rejects(store.update('daily-report', { schedule: 'never' }), { code: 'bad_request' })
  await assert.rejects(store.update('daily-report', { id: 'other' } as never), { code: 'bad_request' })
  await assert.rejects(store.update('nope', { enabled: true }), { code: 'not_found' })
  assert.equal((await readJson(path)).jobs[0].schedule, '30 7 * * 1-5')

  assert.equal(await store.recordRun('daily-report', { status: 'skipped:quiet_hours', at: NOW + 1000 }), true)
  assert.equal(store.get('daily-report')!.last_run_status, 'skipped:quiet_hours')
  assert.equal((await readJson(path)).jobs[0].last_run_at, '2026-05-01T10:00:01.000Z')
  assert.equal(await store.recordRun('ghost', { status: 'success', at: NOW }), false)

  assert.equal(await store.remove('daily-report'), true)
  assert.equal(await store.remove('daily-report'), false)
  assert.equal(store.get('daily-report'), undefined)
  assert.deepEqual((await readJson(path)).jobs, [])
})

test("the service's own writes are not taken for hand edits", async (t) => {
  const { store, lines } = await setup(t)
  await store.load()
  await store.create(basic)
  await store.recordRun('daily-report', { status: 'success', at: NOW })
  const revision = store.revision
  assert.deepEqual(await store.reload(), { status: 'unchanged' })
  assert.equal(store.revision, revision)
  assert.equal(lines.filter((l) => /changed on disk/.test(l.msg)).length, 0)
})

test('a valid hand edit is picked up by reload, once', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await store.create(basic)
  const doc = await readJson(path)
  doc.jobs.push({ id: 'by-hand', title: 'Added in an editor', schedule: '0 12 * * *', task_folder: 'by-hand', agent_instruction: 'Go.' })
  doc.jobs[0].schedule = '15 9 * * *'
  await writeFile(path, JSON.stringify(doc, null, 2))
  const revision = store.revision
  assert.deepEqual(await store.reload(), { status: 'reloaded', count: 2 })
  assert.ok(store.revision > revision)
  assert.equal(store.get('daily-report')!.schedule, '15 9 * * *')
  assert.equal(store.get('by-hand')!.enabled, true)
  assert.deepEqual(await store.reload(), { status: 'unchanged' })

  // Rewriting the same content (an editor saving without changes) is not a change.
  await writeFile(path, JSON.stringify(doc, null, 2))
  const again = store.revision
  assert.deepEqual(await store.reload(), { status: 'unchanged' })
  assert.equal(store.revision, again)
})

test('a change through the store never clobbers a hand edit it has not seen yet', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await store.create(basic)
  const doc = await readJson(path)
  doc.jobs.push({ id: 'by-hand', title: 'x', schedule: '0 12 * * *', task_folder: 'by-hand', agent_instruction: 'Go.' })
  await writeFile(path, JSON.stringify(doc))
  await store.create({ ...basic, id: 'second' })
  assert.deepEqual((await readJson(path)).jobs.map((j: any) => j.id), ['daily-report', 'by-hand', 'second'])
})

test('an invalid hand edit keeps the last good jobs, is logged once, and is never overwritten', async (t) => {
  const { path, store, lines } = await setup(t)
  await store.load()
  await store.create(basic)
  const broken = '{ "jobs": [ { "id": "daily-report", "title": "Daily report", '
  await writeFile(path, broken)
  for (let i = 0; i < 3; i++) {
    const result = await store.reload()
    assert.equal(result.status, 'invalid')
  }
  assert.equal(lines.filter((l) => l.level === 'error').length, 1, 'logged once, not on every poll')
  assert.equal(store.get('daily-report')!.schedule, '0 9 * * *')
  assert.match(store.pendingProblem ?? '', /not valid JSON/)

  await assert.rejects(store.create({ ...basic, id: 'other' }), (err: any) => err.code === 'conflict' && /edited by hand/.test(err.message))
  assert.equal(await store.recordRun('daily-report', { status: 'success', at: NOW }), true)
  assert.equal(store.get('daily-report')!.last_run_status, 'success', 'the result is kept in memory')
  assert.equal(await readFile(path, 'utf8'), broken, "the user's text is untouched")
  assert.deepEqual((await readdir(join(path, '..'))).sort(), ['cron_jobs.json'], 'nothing was moved aside')

  const schemaBroken = { jobs: [{ id: 'daily-report', title: 'x', schedule: '0 9 * * *', task_folder: 'x', agent_instruction: 'x', quiet_start: 'late' }] }
  await writeFile(path, JSON.stringify(schemaBroken))
  const result = await store.reload()
  assert.equal(result.status, 'invalid')
  assert.match(result.status === 'invalid' ? result.problem : '', /jobs\.0\.quiet_start/)
  await writeFile(path, JSON.stringify({ jobs: [{ ...schemaBroken.jobs[0], quiet_start: 22 }, { ...schemaBroken.jobs[0], quiet_start: null }] }))
  assert.match((await store.reload() as { problem: string }).problem, /appears more than once/)

  await writeFile(path, JSON.stringify({ jobs: [{ ...schemaBroken.jobs[0], quiet_start: 22 }] }))
  assert.deepEqual(await store.reload(), { status: 'reloaded', count: 1 })
  assert.equal(store.pendingProblem, null)
  await store.create({ ...basic, id: 'other' })
  assert.deepEqual((await readJson(path)).jobs.map((j: any) => j.id), ['daily-report', 'other'])
})

test('a file that is not JSON (or not { jobs: [...] }) at startup is refused with line and column and left as it is', async (t) => {
  const { dir, path, store } = await setup(t)
  const text = '{"jobs": [\n  {"id": "a", "title": "A", "schedule": "0 7 * * *" "task_folder": "a"}\n]}'
  await writeFile(path, text)
  await assert.rejects(store.load(), (err: Error) => {
    assert.equal(err.name, 'UserFileError')
    assert.equal(err.message, `${path} is not valid JSON: line 2, column 53: Expected ',' or '}' after property value; ductor left it as it is; fix it and start ductor again`)
    return true
  })
  assert.deepEqual(await readdir(dir), ['cron_jobs.json'])
  assert.equal(await readFile(path, 'utf8'), text)
  await writeFile(path, '{"jobs": "not a list"}')
  await assert.rejects(store.load(), /cron_jobs\.json: jobs: /)
})

test('a deleted file keeps the jobs in memory and is written again on the next change', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await store.create(basic)
  await unlink(path)
  assert.deepEqual(await store.reload(), { status: 'missing' })
  assert.equal(store.list().length, 1)
  await store.create({ ...basic, id: 'second' })
  assert.deepEqual((await readJson(path)).jobs.map((j: any) => j.id), ['daily-report', 'second'])
})

test('concurrent changes are serialized: none is lost', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.create({ ...basic, id: `job-${i}` })))
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.recordRun(`job-${i}`, { status: 'success', at: NOW })))
  const jobs = (await readJson(path)).jobs
  assert.equal(jobs.length, 20)
  assert.ok(jobs.every((j: any) => j.last_run_status === 'success'))
})

test('the periodic check does not wait behind a result write; the write itself picks up a hand edit made before it', async (t) => {
  const { path, store } = await setup(t)
  await store.load()
  await store.create(basic)
  // A hand edit lands, then a run result is written before any reload saw the edit.
  const file = await readJson(path)
  await writeFile(path, JSON.stringify({ jobs: [...file.jobs, { ...file.jobs[0], id: 'by-hand', title: 'By hand' }] }, null, 2))
  const written = store.recordRun('daily-report', { status: 'success', at: NOW })
  assert.deepEqual(await store.reload({ unlessBusy: true }), { status: 'busy' })
  assert.equal(await written, true)
  assert.equal(store.get('by-hand')?.title, 'By hand')
  const after = await readJson(path)
  assert.deepEqual(after.jobs.map((j: { id: string }) => j.id), ['daily-report', 'by-hand'], 'the edit is kept in the file')
  assert.equal(after.jobs[0].last_run_status, 'success')
  assert.deepEqual(await store.reload({ unlessBusy: true }), { status: 'unchanged' })
})

test('a job a file gave a model of the other provider still loads and saves other changes; a change of provider or model must fit (ADR 49)', async (t) => {
  const { path, store } = await setup(t)
  await writeFile(path, JSON.stringify({ jobs: [{ ...basic, task_folder: 'daily-report', agent_instruction: 'Do it.', provider: 'claude', model: 'gpt-5' }] }))
  await store.load()
  assert.equal(store.get('daily-report')?.model, 'gpt-5')
  assert.equal((await store.update('daily-report', { title: 'Renamed' })).title, 'Renamed')
  await assert.rejects(store.update('daily-report', { provider: 'claude' }), /model "gpt-5" is a Codex model, but the provider is claude/)
  assert.equal((await store.update('daily-report', { provider: 'codex' })).provider, 'codex')
})

import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, realpath, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, fakeClis, tempDir, testConfig, waitFor } from '../helper.ts'
import { createTaskFolder } from '../../src/automation/task-folder.ts'
import type { ChatEvent, DeliveryEvent } from '../../src/core/sink.ts'

const NOON = Date.parse('2026-06-15T12:00:30Z')

interface MockClock { now: () => number, set: (t: number) => void, advance: (ms: number) => void }
function mockClock (start: number): MockClock {
  let t = start
  return { now: () => t, set: (v) => { t = v }, advance: (ms) => { t += ms } }
}

async function setup (t: TestContext, opts: { config?: Record<string, unknown>, env?: NodeJS.ProcessEnv, start?: number } = {}) {
  const bin = await fakeClis(t)
  const dir = await tempDir(t)
  const record = join(dir, 'record.json')
  const clock = mockClock(opts.start ?? NOON)
  const config = testConfig({ user_timezone: 'UTC', allowed_user_ids: [42, 43], ...opts.config })
  const built = await build(t, { config, clock, env: { ...bin.env, FAKE_CLI_RECORD: record, ...opts.env }, parts: ['automation'] })
  const delivered: Array<{ chatId: string, event: DeliveryEvent }> = []
  built.app.orchestrator.setDefaultSink((chatId) => chatId === '43'
    ? null // a user the adapter cannot reach: nothing delivered there, the run still counts
    : { emit: (event: ChatEvent) => { if (event.type === 'delivery') delivered.push({ chatId, event }) } })
  const lastRun = async (): Promise<{ argv: string[], cwd: string }> => JSON.parse(await readFile(record, 'utf8'))
  const folder = async (name: string): Promise<string> => (await createTaskFolder({ cronTasksDir: built.paths.cronTasks, name, description: `Task ${name}` })).path
  const fileJobs = async (): Promise<Array<Record<string, unknown>>> => JSON.parse(await readFile(built.paths.cronJobs, 'utf8')).jobs
  await built.app.automation.scheduler.tick() // the loop is running: jobs added from now on are planned from here
  return { ...built, clock, delivered, lastRun, record, folder, fileJobs }
}

test('a job written by hand into cron_jobs.json runs on its next minute in its own folder, isolated, recorded and delivered', async (t) => {
  const s = await setup(t, { env: { FAKE_CLI_REPLY: 'Digest: all quiet.' } })
  const folder = await s.folder('digest')
  await s.app.automation.scheduler.tick()
  assert.equal(s.app.automation.cron.store.list().length, 0)

  // The original Python format, written by hand while the service runs.
  await writeFile(s.paths.cronJobs, JSON.stringify({
    jobs: [{
      id: 'digest',
      title: 'Daily digest',
      description: 'Summarize the day',
      schedule: '* * * * *',
      task_folder: 'digest',
      agent_instruction: 'Read TASK_DESCRIPTION.md and do it.',
      enabled: true,
      created_at: '2026-02-01T09:12:44.120391+00:00',
      last_run_at: null,
      last_run_status: null,
      chat_id: 123456789,
      transport: 'tg'
    }]
  }, null, 2))
  s.clock.advance(6_000)
  const picked = await s.app.automation.scheduler.tick()
  assert.deepEqual(picked.started, [], 'not due before the next minute')
  assert.equal(s.app.automation.cron.store.get('digest')?.title, 'Daily digest', 'picked up without a restart')
  assert.equal(s.app.automation.cron.nextRunOf('digest'), Date.parse('2026-06-15T12:01:00Z'))
  assert.deepEqual(s.app.automation.cron.nextRuns(s.app.automation.cron.store.get('digest')!, 3), [
    Date.parse('2026-06-15T12:01:00Z'), Date.parse('2026-06-15T12:02:00Z'), Date.parse('2026-06-15T12:03:00Z')
  ])

  s.clock.set(Date.parse('2026-06-15T12:01:00.400Z'))
  const due = await s.app.automation.scheduler.tick()
  assert.deepEqual(due.started, ['digest'])
  await s.app.automation.scheduler.idle()

  const run = await s.lastRun()
  assert.equal(run.cwd, await realpath(folder), 'runs in the task folder')
  assert.ok(run.argv.includes('--no-session-persistence'), 'an unattended run keeps no CLI session')
  assert.ok(!run.argv.includes('--resume'), 'never resumes')
  assert.ok(!run.argv.includes('--append-system-prompt'), 'never sees the main memory')
  assert.equal(run.argv.at(-1), 'Read TASK_DESCRIPTION.md and do it.')

  const [job] = await s.fileJobs()
  assert.equal(job?.last_run_status, 'success')
  assert.equal(job?.last_run_at, '2026-06-15T12:01:00.400Z')
  assert.equal(job?.transport, 'tg', 'the original\'s extra fields are kept')
  const [history] = s.app.stores.runs.list({ kind: 'cron' })
  assert.equal(history?.ref, 'digest')
  assert.equal(history?.status, 'success')
  assert.equal(history?.provider, 'claude')

  assert.deepEqual(s.delivered.map((d) => [d.chatId, d.event.title, d.event.text, d.event.status]), [['42', 'Daily digest', 'Digest: all quiet.', 'success']])
  assert.equal(s.delivered[0]?.event.runId, history?.id)
})

test('among 10,000 jobs, the one due fires at its minute, once, planned while the loop keeps ticking', async (t) => {
  const s = await setup(t, { env: { FAKE_CLI_REPLY: 'done' } })
  await s.folder('due')
  const base = { description: 'bulk', task_folder: 'due', agent_instruction: 'go', enabled: true }
  const jobs = Array.from({ length: 10_000 }, (_, i) => ({ ...base, id: `bulk-${i}`, title: `Bulk ${i}`, schedule: `${i % 60} ${20 + (i % 4)} * * *` }))
  // Last in the file: the last to be planned.
  jobs.push({ ...base, id: 'due', title: 'Due', schedule: '10 12 * * *' })
  await writeFile(s.paths.cronJobs, JSON.stringify({ jobs }))
  const started: Array<{ at: number, ids: string[] }> = []
  for (let at = NOON + 6_000; at <= Date.parse('2026-06-15T12:10:00Z'); at += 1000) {
    s.clock.set(at)
    const report = await s.app.automation.scheduler.tick()
    assert.deepEqual(report.errors, [])
    if (report.started.length > 0) started.push({ at, ids: report.started })
  }
  assert.equal(s.app.automation.cron.store.list().length, 10_001)
  assert.deepEqual(started, [{ at: Date.parse('2026-06-15T12:10:00Z'), ids: ['due'] }])
  await s.app.automation.scheduler.idle()
  const [history] = s.app.stores.runs.list({ kind: 'cron' })
  assert.equal(history?.ref, 'due')
  assert.equal(history?.status, 'success')
})

test('a job due in its quiet hours is skipped and recorded, without a run or a message', async (t) => {
  const s = await setup(t)
  await s.folder('night')
  await s.app.automation.cron.store.create({ id: 'night', title: 'Night job', schedule: '* * * * *', quiet_start: 11, quiet_end: 13 })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z'))
  assert.deepEqual((await s.app.automation.scheduler.tick()).started, ['night'])
  await s.app.automation.scheduler.idle()
  assert.equal((await s.fileJobs())[0]?.last_run_status, 'skipped:quiet_hours')
  assert.equal(s.app.stores.runs.list({ kind: 'cron' })[0]?.status, 'skipped:quiet_hours')
  await assert.rejects(readFile(s.record), { code: 'ENOENT' }, 'no CLI ran')
  assert.deepEqual(s.delivered, [])
})

test('a job without its own window runs at any hour: the heartbeat\'s quiet hours (21→8) are the heartbeat\'s only', async (t) => {
  const s = await setup(t, { config: { user_timezone: 'Asia/Tokyo', heartbeat: { enabled: true, quiet_start: 21, quiet_end: 8 } }, env: { FAKE_CLI_REPLY: 'Wake up!' } })
  await s.folder('tokyo')
  await s.app.automation.cron.store.create({ id: 'tokyo', title: 'Tokyo', schedule: '* * * * *' })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z')) // 21:01 in Tokyo: inside the heartbeat's 21→8
  await s.app.automation.scheduler.tick()
  await s.app.automation.scheduler.idle()
  assert.equal(s.app.automation.cron.store.get('tokyo')?.last_run_status, 'success')
  assert.deepEqual(s.delivered.map((d) => d.event.text), ['Wake up!'])
})

test('the cron-wide window (cron.quiet_start/quiet_end) skips jobs without their own, in the user\'s zone; a job\'s own window wins', async (t) => {
  const s = await setup(t, { config: { user_timezone: 'Asia/Tokyo', cron: { quiet_start: 21, quiet_end: 8 } }, env: { FAKE_CLI_REPLY: 'ran' } })
  await s.folder('tokyo')
  await s.folder('always')
  await s.app.automation.cron.store.create({ id: 'tokyo', title: 'Tokyo', schedule: '* * * * *' })
  await s.app.automation.cron.store.create({ id: 'always', title: 'Always', schedule: '* * * * *', quiet_start: 0, quiet_end: 0 })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z')) // 21:01 in Tokyo: inside 21→8
  await s.app.automation.scheduler.tick()
  await s.app.automation.scheduler.idle()
  assert.equal(s.app.automation.cron.store.get('tokyo')?.last_run_status, 'skipped:quiet_hours')
  assert.equal(s.app.automation.cron.store.get('always')?.last_run_status, 'success', 'start == end: no window for this job')
})

test('an unknown model fails that job only, with a clear status and message; the others run', async (t) => {
  const s = await setup(t, { env: { FAKE_CLI_REPLY: 'fine' } })
  await s.folder('bad')
  await s.folder('good')
  await s.app.automation.cron.store.create({ id: 'bad', title: 'Bad model', schedule: '* * * * *', model: 'llama-9000' })
  await s.app.automation.cron.store.create({ id: 'good', title: 'Good', schedule: '* * * * *' })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z'))
  assert.deepEqual((await s.app.automation.scheduler.tick()).started.sort(), ['bad', 'good'])
  await s.app.automation.scheduler.idle()
  assert.equal(s.app.automation.cron.store.get('bad')?.last_run_status, 'error:unknown_model')
  assert.equal(s.app.automation.cron.store.get('good')?.last_run_status, 'success')
  const bad = s.app.stores.runs.list({ ref: 'bad' })[0]
  assert.equal(bad?.status, 'error:unknown_model')
  assert.match(bad?.error ?? '', /unknown claude model "llama-9000"/)
  const message = s.delivered.find((d) => d.event.ref === 'bad')
  assert.equal(message?.event.status, 'error:unknown_model')
  assert.match(message?.event.text ?? '', /llama-9000/)
})

test('a missing task folder is error:folder_missing for a job and error:no_task_folder for a hook task', async (t) => {
  const s = await setup(t)
  await s.app.automation.cron.store.create({ id: 'gone', title: 'Gone', schedule: '* * * * *' })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z'))
  await s.app.automation.scheduler.tick()
  await s.app.automation.scheduler.idle()
  assert.equal(s.app.automation.cron.store.get('gone')?.last_run_status, 'error:folder_missing')
  const hook = await s.app.automation.runTask({ kind: 'webhook', ref: 'gh', title: 'GitHub', taskFolder: 'nowhere', prompt: 'x', overrides: {} })
  assert.equal(hook.status, 'error:no_task_folder')
  assert.equal(s.app.stores.runs.get(hook.runId!)?.kind, 'webhook')
  await assert.rejects(readFile(s.record), { code: 'ENOENT' }, 'no CLI ran')
})

test('a CLI failure becomes the job\'s status (exit code, missing CLI)', async (t) => {
  const s = await setup(t)
  await s.folder('crash')
  await s.app.automation.cron.store.create({ id: 'crash', title: 'Crash', schedule: '* * * * *', agent_instruction: '[[exit:3]] go' })
  await s.app.automation.cron.store.create({ id: 'nocodex', title: 'No codex', schedule: '* * * * *', task_folder: 'crash', provider: 'codex' })
  s.app.settings.applyConfig({ ...s.app.settings.config(), cli_paths: { claude: '', codex: '/nonexistent/codex' } })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z'))
  await s.app.automation.scheduler.tick()
  await s.app.automation.scheduler.idle()
  assert.equal(s.app.automation.cron.store.get('crash')?.last_run_status, 'error:exit_3')
  assert.equal(s.app.automation.cron.store.get('nocodex')?.last_run_status, 'error:cli_not_found_codex')
  assert.match(s.delivered.find((d) => d.event.ref === 'nocodex')?.event.text ?? '', /npm install -g @openai\/codex/)
})

test('tasks with the same dependency run one at a time in arrival order, across cron and webhooks', async (t) => {
  const s = await setup(t, { env: { FAKE_CLI_DELAY_MS: '40' } })
  await s.folder('mail')
  await s.app.automation.cron.store.create({ id: 'mail-cron', title: 'Mail (cron)', schedule: '* * * * *', task_folder: 'mail', dependency: 'mailbox', agent_instruction: '[[reply:B]] cron' })
  const order: string[] = []
  let maxParallel = 0
  const watch = setInterval(() => { maxParallel = Math.max(maxParallel, s.app.runner.registry.list().length) }, 5)
  t.after(() => clearInterval(watch))
  const hook = (name: string) => s.app.automation.runTask({ kind: 'webhook', ref: `hook-${name}`, title: name, taskFolder: 'mail', prompt: `[[reply:${name}]] hook`, overrides: {}, dependency: 'mailbox' })
    .then((r) => { order.push(name); return r })

  const a = hook('A')
  await waitFor(() => s.app.runner.registry.list().length === 1 ? true : undefined, 10_000, 'A to start')
  s.clock.set(Date.parse('2026-06-15T12:01:00Z'))
  assert.deepEqual((await s.app.automation.scheduler.tick()).started, ['mail-cron'])
  const c = hook('C')
  assert.deepEqual(s.app.automation.dependencies.depths(), { mailbox: 3 })
  await Promise.all([a, c])
  await s.app.automation.scheduler.idle()
  const cronRun = s.app.stores.runs.list({ ref: 'mail-cron' })[0]
  assert.equal(cronRun?.status, 'success')
  const byEnd = s.app.stores.runs.list({ limit: 10 }).filter((r) => r.status === 'success')
  assert.equal(byEnd.length, 3)
  assert.equal(maxParallel, 1, 'never two of them at once')
  assert.deepEqual(order, ['A', 'C'])
  assert.deepEqual(s.delivered.filter((d) => d.chatId === '42').map((d) => d.event.text), ['A', 'B', 'C'], 'delivered in arrival order')
  assert.deepEqual(s.app.automation.dependencies.depths(), {})
})

test('run now starts a job at once outside its schedule and quiet hours, and refuses while it runs', async (t) => {
  const s = await setup(t)
  await s.folder('manual')
  await s.app.automation.cron.store.create({ id: 'manual', title: 'Manual', schedule: '0 3 * * *', quiet_start: 0, quiet_end: 23, agent_instruction: '[[delay:30]] [[reply:done by hand]]' })
  const { done } = s.app.automation.cron.runNow('manual')
  assert.deepEqual(s.app.automation.cron.running(), ['manual'])
  assert.throws(() => s.app.automation.cron.runNow('manual'), { code: 'conflict' })
  assert.throws(() => s.app.automation.cron.runNow('nope'), { code: 'not_found' })
  const result = await done
  assert.equal(result.status, 'success')
  assert.equal(result.reply, 'done by hand')
  assert.equal(s.app.automation.cron.store.get('manual')?.last_run_status, 'success')
  assert.deepEqual(s.app.automation.cron.running(), [])
})

test('closing the core aborts a running task and stops the loop', async (t) => {
  const s = await setup(t)
  await s.folder('long')
  await s.app.automation.cron.store.create({ id: 'long', title: 'Long', schedule: '* * * * *', agent_instruction: '[[hang]] forever' })
  s.clock.set(Date.parse('2026-06-15T12:01:00Z'))
  await s.app.automation.scheduler.tick()
  await waitFor(() => s.app.runner.registry.list().length === 1 ? true : undefined, 10_000, 'the task to start')
  await s.app.close()
  assert.equal(s.app.runner.registry.list().length, 0)
  assert.equal(s.app.automation.cron.store.get('long')?.last_run_status, 'error:aborted')
  assert.deepEqual(s.delivered, [], 'a shutdown is not reported as the task\'s result')
})

test('across DST in Europe/Berlin the scheduler runs a 02:30 job right after the spring-forward gap, and a 15-minute job every 15 real minutes through the repeated hour', async (t) => {
  const spring = await setup(t, { start: Date.parse('2026-03-29T00:50:00Z'), config: { user_timezone: 'Europe/Berlin' }, env: { FAKE_CLI_REPLY: 'ok' } })
  await spring.folder('night')
  await spring.app.automation.cron.store.create({ id: 'night', title: 'Night', schedule: '30 2 * * *', timezone: 'Europe/Berlin' })
  assert.equal(spring.app.automation.cron.nextRunOf('night'), Date.parse('2026-03-29T01:00:00Z'), '03:00 CEST, the first minute after the gap')
  const started: string[] = []
  for (let at = Date.parse('2026-03-29T00:50:30Z'); at <= Date.parse('2026-03-29T01:10:00Z'); at += 30_000) {
    spring.clock.set(at)
    if ((await spring.app.automation.scheduler.tick()).started.length > 0) started.push(new Date(at).toISOString())
    await spring.app.automation.scheduler.idle()
  }
  assert.deepEqual(started, ['2026-03-29T01:00:00.000Z'])
  assert.equal(spring.app.automation.cron.store.get('night')?.last_run_status, 'success')

  const autumn = await setup(t, { start: Date.parse('2026-10-25T00:40:00Z'), config: { user_timezone: 'Europe/Berlin' }, env: { FAKE_CLI_REPLY: 'ok' } })
  await autumn.folder('quarter')
  await autumn.app.automation.cron.store.create({ id: 'quarter', title: 'Quarter', schedule: '*/15 * * * *' })
  const fired: number[] = []
  for (let at = Date.parse('2026-10-25T00:40:30Z'); at <= Date.parse('2026-10-25T02:05:00Z'); at += 30_000) {
    autumn.clock.set(at)
    if ((await autumn.app.automation.scheduler.tick()).started.length > 0) fired.push(at)
    await autumn.app.automation.scheduler.idle()
  }
  // 02:45 CEST, then 02:00 … 02:45 CET (the repeated hour), then 03:00 CET: every 15 minutes of real time.
  assert.deepEqual(fired.map((at) => new Date(at).toISOString().slice(11, 16)), ['00:45', '01:00', '01:15', '01:30', '01:45', '02:00'])
})

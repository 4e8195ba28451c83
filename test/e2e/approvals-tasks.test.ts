import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { access, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cleanups, startBot, until, USER, STRANGER, type BotHarness } from '../telegram/helpers.ts'
import { ADMIN_TOKEN, waitFor } from '../helper.ts'
import type { StoredMessage } from '../fakes/bot-api/methods.ts'

// Issue 21, cron jobs and webhooks (ADR 0029) through their real entry points: `POST /api/cron/:id/run`
// and a signed `POST /hooks/:id`. The fake claude asks through ductor's real permission-prompt script
// (bin/ductor-approval-mcp.mjs over stdio, then the admin API), as the real claude does
// (test/fixtures/cli/APPROVALS.md); its command writes approved.txt in the task folder.
// The requests go to the chats the results are delivered to: every allowed user's (here USER and OTHER).

const OTHER = 112
const COMMAND = 'echo approved > approved.txt && echo ran'
const SECRET = 'github-signing-secret-0123456789'
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const jsonHeaders = { ...auth, 'content-type': 'application/json' }

interface Run { id: string, status: string, error: string | null, reply?: string | null }
interface Approval { id: string, source: { kind: string, ref: string | null, title: string | null }, chat_ids: string[], detail: string }

describe('cron jobs and webhooks in permission_mode "ask"', { timeout: 120_000 }, () => {
  const c = cleanups()
  after(c.run)
  let bot: BotHarness
  let adminUrl: string
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number, body: T }> => {
    const res = await fetch(`${adminUrl}/api${path}`, { method, headers: body === undefined ? auth : jsonHeaders, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: await res.json() as T }
  }
  const folder = (name: string): string => join(bot.paths.cronTasks, name)
  const ran = async (name: string): Promise<boolean> => await access(join(folder(name), 'approved.txt')).then(() => true, () => false)
  const setTimeoutSeconds = async (seconds: number): Promise<void> => {
    const res = await api('PATCH', '/config', { approvals: { timeout_seconds: seconds } })
    assert.equal(res.status, 200, JSON.stringify(res.body))
  }

  // The request messages: one per asked chat, newer than any seen so far.
  let lastSeen = 0
  const requestIn = async (chatId: number, what: RegExp): Promise<StoredMessage> => {
    const m = await waitFor(() => bot.messages(chatId).find((m) => m.message_id > lastSeen && m.text.includes('Approve?') && what.test(m.text)), 30_000, `a request in chat ${chatId}`)
    return m
  }
  const seenAll = (): void => { lastSeen = Math.max(lastSeen, ...[USER, OTHER].flatMap((id) => bot.messages(id).map((m) => m.message_id))) }
  const buttonData = (m: StoredMessage, label: string): string => {
    const rows = (m.reply_markup as { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }).inline_keyboard
    const button = rows.flat().find((b) => b.text.includes(label))
    assert.ok(button !== undefined, `button ${label}`)
    return button.callback_data
  }
  const textOf = (chatId: number, messageId: number): string => bot.messages(chatId).find((m) => m.message_id === messageId)?.text ?? ''
  const runEnded = async (id: string): Promise<Run> => await waitFor(async () => {
    const res = await api<Run>('GET', `/runs/${id}`)
    return res.status === 200 && res.body.status !== 'running' ? res.body : undefined
  }, 60_000, `run ${id} to end`)
  const delivered = async (chatId: number, what: RegExp): Promise<StoredMessage> =>
    await waitFor(() => bot.messages(chatId).find((m) => m.message_id > lastSeen && what.test(m.text) && !m.text.includes('Approve?')), 30_000, `a delivery ${String(what)}`)

  test('setup: a cron job and two hooks in ask mode', async () => {
    bot = await startBot(c, {
      config: {
        allowed_user_ids: [USER, OTHER],
        webhooks: { enabled: true, token: 'global-webhook-token-0123456789' },
        approvals: { timeout_seconds: 60 }
      }
    })
    adminUrl = await bot.app.listenAdmin({ host: '127.0.0.1', port: 0 })
    bot.app.settings.setApiUrl(adminUrl)
    const job = await api<{ job: { permission_mode: string | null } }>('POST', '/cron', {
      id: 'backup',
      title: 'Nightly backup',
      schedule: '0 3 * * *',
      task_description: 'Back up the notes.',
      agent_instruction: 'Back up now. [[ask:bash]]',
      permission_mode: 'ask'
    })
    assert.equal(job.status, 201, JSON.stringify(job.body))
    assert.equal(job.body.job.permission_mode, 'ask')
    // A mode that does not exist is refused by name, for jobs and hooks.
    const badJob = await api<{ message: string }>('POST', '/cron', { id: 'bad', title: 'Bad', schedule: '0 3 * * *', permission_mode: 'yolo' })
    assert.equal(badJob.status, 400)
    assert.match(badJob.body.message, /permission_mode/)
    const badHook = await api<{ message: string }>('POST', '/webhooks', { id: 'bad', title: 'Bad', mode: 'wake', prompt_template: 'x', permission_mode: 'yolo' })
    assert.equal(badHook.status, 400)
    assert.match(badHook.body.message, /permission_mode must be one of ask, default, acceptEdits, plan, bypassPermissions, dontAsk, null/)
    const hook = await api<{ hook: { permission_mode: string | null } }>('POST', '/webhooks', {
      id: 'deploy',
      title: 'Deploy',
      mode: 'cron_task',
      task_folder: 'deploy',
      auth_mode: 'hmac',
      hmac_preset: 'github',
      hmac_secret: SECRET,
      prompt_template: 'Deploy {{ref}}. [[ask:bash]]',
      task_description: 'Deploy what was pushed.',
      permission_mode: 'ask'
    })
    assert.equal(hook.status, 201, JSON.stringify(hook.body))
    assert.equal(hook.body.hook.permission_mode, 'ask')
    // The extra key is in the shared files, which the Python ductor loads with keys it does not know (ADR 0029).
    const jobs = JSON.parse(await readFile(bot.paths.cronJobs, 'utf8')) as { jobs: Array<Record<string, unknown>> }
    assert.equal(jobs.jobs[0]?.['permission_mode'], 'ask')
  })

  type Job = { last_run_status: string | null, last_run_at: string | null }
  const getJob = async (): Promise<Job> => (await api<{ job: Job }>('GET', '/cron/backup')).body.job
  /** The job's last run before the one runJob started. */
  let previousRunAt: string | null = null
  /** The job's last_run_status once the run runJob started is recorded (after its result went out; until then the job still runs). */
  const jobStatus = async (): Promise<string | null> => await waitFor(async () => {
    const job = await getJob()
    return job.last_run_at !== previousRunAt ? job.last_run_status : undefined
  }, 30_000, 'the job\'s result to be recorded')
  const runJob = async (): Promise<string> => {
    seenAll()
    previousRunAt = (await getJob()).last_run_at
    const res = await api<{ run_id: string }>('POST', '/cron/backup/run')
    assert.equal(res.status, 202)
    return res.body.run_id
  }
  let deliveries = 0
  const pushDelivery = async (ref: string): Promise<void> => {
    seenAll()
    const body = JSON.stringify({ ref })
    const res = await fetch(`${bot.url}/hooks/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-delivery': `d-${++deliveries}`, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      body
    })
    assert.equal(res.status, 202)
  }
  const hookRun = async (n: number): Promise<Run> => await waitFor(async () => {
    const runs = (await api<{ runs: Run[] }>('GET', '/runs?kind=webhook')).body.runs.filter((r) => r.status !== 'running')
    return runs.length >= n ? runs[0] : undefined
  }, 60_000, `webhook run ${n}`)

  test('cron: both chats see the request; a stranger, a forged id do nothing; Allow once in one chat runs it', async () => {
    const runId = await runJob()
    const ask = await requestIn(USER, /For the cron job "Nightly backup"/)
    const copy = await requestIn(OTHER, /For the cron job "Nightly backup"/)
    assert.ok(ask.text.includes(`$ ${COMMAND}`), ask.text)
    assert.match(ask.text, /Run a command \(Bash\)/)
    const listed = (await api<{ approvals: Approval[] }>('GET', '/approvals')).body.approvals
    assert.equal(listed.length, 1)
    assert.deepEqual(listed[0]?.source, { kind: 'cron', ref: 'backup', title: 'Nightly backup' })
    assert.deepEqual(listed[0]?.chat_ids, [String(USER), String(OTHER)])
    assert.equal(await ran('backup'), false, 'nothing ran before the answer')

    const deny = buttonData(ask, 'Deny')
    await bot.press(ask, buttonData(ask, 'Allow once'), STRANGER)
    await bot.press(ask, `ap:${'0'.repeat(32)}:a`)
    assert.equal(bot.app.approvals.pending().length, 1, 'still waiting')
    await bot.press(copy, buttonData(copy, 'Allow once'))

    const run = await runEnded(runId)
    assert.equal(run.status, 'success')
    assert.equal(run.reply, 'The tool said: ran')
    assert.equal(await readFile(join(folder('backup'), 'approved.txt'), 'utf8'), 'approved\n')
    await delivered(USER, /Nightly backup[\s\S]*The tool said: ran/)
    // Every copy of the request says what happened and loses its buttons.
    await until(() => textOf(USER, ask.message_id).includes('Allowed once.') && textOf(OTHER, copy.message_id).includes('Allowed once.'), 'both copies updated')
    // A replayed Deny afterwards changes nothing.
    await bot.press(ask, deny)
    assert.equal(bot.app.approvals.pending().length, 0)
    assert.equal(await jobStatus(), 'success')
  })

  test('cron: Deny → the command does not run, the agent is told, the result is its reply', async () => {
    await rm(join(folder('backup'), 'approved.txt'))
    const runId = await runJob()
    const ask = await requestIn(USER, /For the cron job "Nightly backup"/)
    await bot.press(ask, buttonData(ask, 'Deny'))
    const run = await runEnded(runId)
    assert.equal(run.status, 'success')
    assert.match(run.reply ?? '', /The tool said: The user denied this request/)
    assert.equal(await ran('backup'), false)
    await until(() => textOf(USER, ask.message_id).includes('Denied.'), 'the request says Denied')
    // Its result reaches the chat before the next test runs the job again (or that one would take it for its own).
    await delivered(USER, /Nightly backup[\s\S]*The tool said: The user denied this request/)
  })

  test('cron: nobody answers → denied at the timeout, and the result says so (chat, run, job)', async () => {
    await setTimeoutSeconds(1)
    try {
      const runId = await runJob()
      const ask = await requestIn(USER, /For the cron job "Nightly backup"/)
      assert.match(ask.text, /No answer within 1 s denies it/)
      const allow = buttonData(ask, 'Allow once')
      const run = await runEnded(runId)
      assert.equal(run.status, 'error:approval_timeout')
      assert.match(run.error ?? '', /^Nobody answered 1 tool request within 1 s, so ductor denied it and the task did not do that: Run a command \(Bash\): \$ echo approved > approved.txt && echo ran\.$/)
      assert.match(run.reply ?? '', /Nobody answered within 1 s, so ductor denied this request/, 'the agent was told')
      const message = await delivered(USER, /Nightly backup/)
      assert.match(message.text, /⚠️ Nobody answered 1 tool request within 1 s.* \(error:approval_timeout\)/)
      assert.match(message.text, /The agent's reply:\s+The tool said: Nobody answered/)
      await delivered(OTHER, /Nightly backup[\s\S]*error:approval_timeout/)
      assert.equal(await jobStatus(), 'error:approval_timeout')
      await until(() => textOf(USER, ask.message_id).includes('Denied: nobody answered within 1 s.'), 'the request says it timed out')
      // A press after the timeout changes nothing.
      await bot.press(ask, allow)
      assert.equal(await ran('backup'), false)
      assert.equal(bot.app.approvals.pending().length, 0)
    } finally {
      await setTimeoutSeconds(60)
    }
  })

  test('webhook (signed POST /hooks/:id): the request names the hook; Allow through the admin API runs it', async () => {
    await pushDelivery('main')
    const ask = await requestIn(USER, /For the webhook "Deploy"/)
    assert.ok(ask.text.includes(`$ ${COMMAND}`))
    const listed = (await api<{ approvals: Approval[] }>('GET', '/approvals')).body.approvals
    assert.deepEqual(listed[0]?.source, { kind: 'webhook', ref: 'deploy', title: 'Deploy' })
    const answer = await api('POST', `/approvals/${listed[0]?.id ?? ''}`, { action: 'allow' })
    assert.equal(answer.status, 200)
    const run = await hookRun(1)
    assert.equal(run.status, 'success')
    assert.equal(await readFile(join(folder('deploy'), 'approved.txt'), 'utf8'), 'approved\n')
    await until(() => textOf(USER, ask.message_id).includes('Allowed once. (through the admin API)'), 'the request says it was allowed')
    await delivered(USER, /Deploy[\s\S]*The tool said: ran/)
  })

  test('webhook: Deny and stop → not run, the run is stopped, the hook\'s last_error says so', async () => {
    await rm(join(folder('deploy'), 'approved.txt'))
    await pushDelivery('next')
    const ask = await requestIn(OTHER, /For the webhook "Deploy"/)
    await bot.press(ask, buttonData(ask, 'Deny and stop'))
    const run = await hookRun(2)
    assert.equal(run.status, 'error:aborted')
    assert.equal(run.error, 'Stopped: you denied a tool request and stopped the run.')
    assert.equal(await ran('deploy'), false)
    await delivered(USER, /Deploy[\s\S]*Stopped: you denied a tool request/)
    await until(() => bot.app.webhooks.store.get('deploy')?.last_error === 'error:aborted', 'the hook\'s last_error')
  })

  test('webhook: nobody answers → denied at the timeout; run and hook say error:approval_timeout', async () => {
    await setTimeoutSeconds(1)
    try {
      await pushDelivery('late')
      await requestIn(USER, /For the webhook "Deploy"/)
      const run = await hookRun(3)
      assert.equal(run.status, 'error:approval_timeout')
      assert.match(run.error ?? '', /Nobody answered 1 tool request within 1 s/)
      assert.equal(await ran('deploy'), false)
      await delivered(USER, /Deploy[\s\S]*Nobody answered 1 tool request within 1 s[\s\S]*error:approval_timeout/)
      await until(() => bot.app.webhooks.store.get('deploy')?.last_error === 'error:approval_timeout', 'the hook\'s last_error')
    } finally {
      await setTimeoutSeconds(60)
    }
  })

  test('a wake hook in ask mode: each chat it wakes is asked in that chat; one allows, the other denies', async () => {
    const created = await api<{ token: string }>('POST', '/webhooks', { id: 'alert', title: 'Alert', mode: 'wake', prompt_template: 'Alert {{x}}. [[ask:bash]]', permission_mode: 'ask' })
    assert.equal(created.status, 201)
    seenAll()
    const res = await fetch(`${bot.url}/hooks/alert`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${created.body.token}` }, body: '{"x":"disk"}' })
    assert.equal(res.status, 202)
    const mine = await requestIn(USER, /For the webhook "Alert"/)
    const theirs = await requestIn(OTHER, /For the webhook "Alert"/)
    assert.equal(bot.app.approvals.pending().length, 2, 'one request per woken chat')
    // A button answers only in the chat its request was shown in.
    await bot.press({ ...theirs, chat_id: USER }, buttonData(theirs, 'Allow once'))
    assert.equal(bot.app.approvals.pending().length, 2)
    await bot.press(mine, buttonData(mine, 'Allow once'))
    await bot.press(theirs, buttonData(theirs, 'Deny'))
    const runs = await waitFor(async () => {
      const list = (await api<{ runs: Array<Run & { ref: string, chat_id: string }> }>('GET', '/runs?kind=webhook')).body.runs.filter((r) => r.ref === 'alert' && r.status !== 'running')
      return list.length === 2 ? list : undefined
    }, 60_000, 'both wake runs')
    assert.deepEqual(runs.map((r) => r.status), ['success', 'success'])
    assert.equal(await readFile(join(bot.paths.workspace, 'approved.txt'), 'utf8'), 'approved\n', 'the allowed run ran the command in the workspace')
    await bot.waitMessage((m) => m.text.includes('The tool said: ran'), 'the reply in the allowing chat', USER)
    await bot.waitMessage((m) => m.text.includes('The tool said: The user denied this request'), 'the reply in the denying chat', OTHER)
  })

  test('a job without permission_mode follows the global one (bypassPermissions here): it runs without asking', async () => {
    const created = await api('POST', '/cron', { id: 'plain', title: 'Plain', schedule: '0 4 * * *', task_description: 'x', agent_instruction: 'Go. [[ask:bash]]' })
    assert.equal(created.status, 201)
    seenAll()
    const res = await api<{ run_id: string }>('POST', '/cron/plain/run')
    const run = await runEnded(res.body.run_id)
    assert.equal(run.status, 'success')
    assert.equal(await ran('plain'), true)
    assert.equal(bot.messages(USER).some((m) => m.message_id > lastSeen && m.text.includes('Approve?')), false, 'nobody was asked')
  })
})

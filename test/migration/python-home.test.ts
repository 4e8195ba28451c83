import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises'
import { createHmac } from 'node:crypto'
import { join } from 'node:path'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { textMessage } from '../fakes/bot-api/updates.ts'
import { fakeClis, ROOT, spawnService, tempDir, waitFor } from '../helper.ts'
import { cleanWorkspaceFiles } from '../../src/automation/cleanup.ts'
import { checkPythonHome, checkSessions } from './python-loader.ts'

/**
 * Both directions of migration (issue 17, docs/migration.md): `ductor serve` starts on a copy of a
 * home written by the Python ductor (test/fixtures/seed-home), is used the way its user used it —
 * messages in the private chat and the group, `/model`, a cron job, both webhooks, the cleanup — and
 * afterwards every shared file still loads under the Python version's rules (./python-loader.ts).
 */

const FIXTURE = join(ROOT, 'test', 'fixtures', 'seed-home')
const USER = 111111
const GROUP = -100222333
const CLAUDE_SESSION = '11111111-2222-3333-4444-555555555555'
const CODEX_THREAD = '019a0000-aaaa-bbbb-cccc-dddddddddddd'
const GROUP_SESSION = '99999999-2222-3333-4444-555555555555'
const DAY = 86_400_000

interface Record_ { argv: string[], cwd: string }

test('a Python-era home: everything carries over, and the Python version can load every shared file afterwards', { timeout: 300_000 }, async (t) => {
  const config = JSON.parse(await readFile(join(FIXTURE, 'ductor-home', 'config', 'config.json'), 'utf8')) as { telegram_token: string }
  const fake = createFakeBotApi({ token: config.telegram_token, rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(() => fake.close())

  const home = join(await tempDir(t, 'ductor-migration-'), '.ductor')
  await cp(join(FIXTURE, 'ductor-home'), home, { recursive: true })
  const userHome = await tempDir(t, 'ductor-migration-user-')
  await cp(join(FIXTURE, 'claude-home'), join(userHome, '.claude'), { recursive: true })
  await cp(join(FIXTURE, 'codex-home'), join(userHome, '.codex'), { recursive: true })
  assert.deepEqual(await checkPythonHome(home), [], 'the checker accepts the Python version\'s own home')

  // What the user received in January, and the rule files the Python version put in telegram_files/.
  const january = join(home, 'workspace', 'telegram_files', '2026-01-15')
  await mkdir(january, { recursive: true })
  await writeFile(join(january, 'voice_1.ogg'), 'a voice note')
  const old = new Date(Date.now() - 300 * DAY)
  for (const file of [join(january, 'voice_1.ogg'), join(home, 'workspace', 'telegram_files', 'CLAUDE.md'), join(home, 'workspace', 'telegram_files', 'AGENTS.md')]) await utimes(file, old, old)

  const bin = await fakeClis(t)
  const records = await tempDir(t, 'ductor-migration-rec-')
  const env = {
    ...bin.env,
    HOME: userHome,
    DUCTOR_HOME: home,
    DUCTOR_PORT: '0',
    DUCTOR_TELEGRAM_API_ROOT: fake.apiRoot,
    FAKE_CLI_RECORD_DIR: records
  }
  const service = await spawnService(t, env)
  const info = await service.up(120_000)
  const adminToken = (JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { admin: { token: string } }).admin.token
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${info.admin_url ?? info.url}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }

  await stat(join(january, 'voice_1.ogg')) // the first start deleted nothing the user received

  let updateId = 1
  let messageId = 1
  const say = (text: string, chatId = USER): void => {
    fake.pushUpdate({ update_id: updateId++, message: textMessage(text, { chatId, from: USER, messageId: messageId++ }) })
  }
  const waitText = async (chatId: number, fn: (text: string) => boolean, what: string): Promise<void> => {
    await waitFor(() => fake.messages(chatId).some((m) => fn(m.text)) ? true : undefined, 60_000, what)
  }
  const runOf = async (marker: string): Promise<Record_> => await waitFor(async () => {
    for (const name of await readdir(records)) {
      const r = JSON.parse(await readFile(join(records, name), 'utf8').catch(() => '{}')) as Partial<Record_>
      if (r.argv?.some((a) => a.includes(marker)) === true) return r as Record_
    }
    return undefined
  }, 60_000, `the CLI run with "${marker}"`)

  // The private chat resumes its Claude session; the group (a plain text, not addressed) its own.
  say('hello again [[reply:claude here]]')
  await waitText(USER, (t) => t === 'claude here', 'the Claude answer')
  const claudeRun = await runOf('hello again')
  assert.equal(claudeRun.argv[claudeRun.argv.indexOf('--resume') + 1], CLAUDE_SESSION)
  assert.equal(claudeRun.argv[claudeRun.argv.indexOf('--model') + 1], 'opus', 'the config\'s default, as in the Python version')
  say('team question [[reply:group answer]]', GROUP)
  await waitText(GROUP, (t) => t === 'group answer', 'the group answer')
  const groupRun = await runOf('team question')
  assert.equal(groupRun.argv[groupRun.argv.indexOf('--resume') + 1], GROUP_SESSION)

  // /model switches the default in config.json; the chat resumes its Codex thread.
  say('/model gpt-5.2-codex high')
  await waitText(USER, (t) => /Switched the default to Codex · gpt-5\.2-codex \(reasoning high\)/.test(t), 'the /model answer')
  say('and now codex [[reply:codex here]]')
  await waitText(USER, (t) => t === 'codex here', 'the Codex answer')
  const codexRun = await runOf('and now codex')
  assert.ok(codexRun.argv.join(' ').includes(`resume ${CODEX_THREAD}`), `resumes the Codex thread: ${codexRun.argv.join(' ')}`)
  assert.ok(codexRun.argv.join(' ').includes('model_reasoning_effort=high'))

  // The cron job without its own model follows the new default; the webhooks run.
  assert.equal((await api('POST', '/api/cron/hn-digest/run')).status, 202)
  const hooks = JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')) as { hooks: Array<{ id: string, token: string }> }
  const ciToken = hooks.hooks.find((h) => h.id === 'ci-failure')?.token ?? ''
  const wake = await fetch(`${info.url}/hooks/ci-failure`, { method: 'POST', headers: { authorization: `Bearer ${ciToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'failed [[reply:ci seen]]', branch: 'main' }) })
  assert.equal(wake.status, 202)
  const pushBody = JSON.stringify({ ref: 'refs/heads/main', pusher: 'ann' })
  const signature = `sha256=${createHmac('sha256', 'ghsecret').update(pushBody).digest('hex')}`
  const push = await fetch(`${info.url}/hooks/gh-push`, { method: 'POST', headers: { 'x-hub-signature-256': signature, 'content-type': 'application/json' }, body: pushBody })
  assert.equal(push.status, 202)
  await waitText(USER, (t) => t.includes('ci seen'), 'the wake hook\'s answer in the chat')
  const finished = async (kind: string, ref: string): Promise<Record<string, unknown>> => await waitFor(async () => {
    const runs = (await api('GET', `/api/runs?kind=${kind}`)).body.runs as Array<Record<string, unknown>> | undefined
    return runs?.find((r) => r.ref === ref && r.status !== 'running')
  }, 60_000, `the ${kind} run of ${ref}`)
  const cronRun = await finished('cron', 'hn-digest')
  assert.equal(cronRun.status, 'success')
  assert.equal(cronRun.model, 'gpt-5.2-codex', 'cron follows /model')
  assert.equal((await finished('webhook', 'gh-push')).status, 'success')

  // CLAUDE.md/AGENTS.md stay in sync while running, as in the Python version.
  const taskRules = join(home, 'workspace', 'cron_tasks', 'hn-digest')
  const edited = `${await readFile(join(taskRules, 'CLAUDE.md'), 'utf8')}\n- Only stories with more than 100 points.\n`
  await writeFile(join(taskRules, 'CLAUDE.md'), edited)
  await waitFor(async () => await readFile(join(taskRules, 'AGENTS.md'), 'utf8') === edited ? true : undefined, 60_000, 'AGENTS.md to follow the edited CLAUDE.md')

  // Stopped, the home is one the Python version starts on.
  assert.equal(await service.stop(), 0)
  assert.deepEqual(await checkPythonHome(home), [])
  assert.equal(await readFile(join(home, 'workspace', 'tools', 'cron_tools', 'cron_add.py'), 'utf8'), await readFile(join(FIXTURE, 'ductor-home', 'workspace', 'tools', 'cron_tools', 'cron_add.py'), 'utf8'), 'the Python tools are left as they were')
  const file = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as Record<string, unknown>
  assert.deepEqual([file.provider, file.model, file.reasoning_effort, file.ductor_home], ['codex', 'gpt-5.2-codex', 'high', '~/.ductor'])
  // ductor_home names ~/.ductor, where the Python ductor would have kept everything; DUCTOR_HOME (this copy) wins, and the log says so (ADR 0028).
  const notes = (await readFile(join(home, 'logs', 'ductor.log'), 'utf8')).split('\n').filter((l) => l.includes('"ductor_home"')).map((l) => (JSON.parse(l) as { msg: string }).msg)
  assert.ok(notes.some((m) => m.startsWith(`config.json names ductor_home "~/.ductor" (${join(userHome, '.ductor')}), where the Python ductor kept`) && m.endsWith(`DUCTOR_HOME=${join(userHome, '.ductor')}`)), notes.join('\n'))
  const sessions = JSON.parse(await readFile(join(home, 'sessions.json'), 'utf8')) as Record<string, { provider: string, provider_sessions: Record<string, { session_id: string, message_count: number }> }>
  assert.equal(sessions[String(USER)]?.provider_sessions.claude?.session_id, CLAUDE_SESSION)
  assert.equal(sessions[String(USER)]?.provider_sessions.claude?.message_count, 2)
  assert.equal(sessions[String(USER)]?.provider_sessions.codex?.session_id, CODEX_THREAD)
  assert.ok((sessions[String(USER)]?.provider_sessions.codex?.message_count ?? 0) >= 2, 'the Codex message and the wake hook')
  assert.equal(sessions[String(GROUP)]?.provider_sessions.claude?.message_count, 2)
  const jobs = JSON.parse(await readFile(join(home, 'cron_jobs.json'), 'utf8')) as { jobs: Array<{ id: string, last_run_status: string | null }> }
  assert.equal(jobs.jobs.find((j) => j.id === 'hn-digest')?.last_run_status, 'success')
  const after = JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')) as { hooks: Array<{ id: string, trigger_count: number }> }
  assert.deepEqual(after.hooks.map((h) => [h.id, h.trigger_count]), [['ci-failure', 1], ['gh-push', 1]])

  // The daily cleanup (not run at start) removes the old voice note, never the rule files.
  await cleanWorkspaceFiles({ telegramFilesDir: join(home, 'workspace', 'telegram_files'), outputToUserDir: join(home, 'workspace', 'output_to_user'), telegramFilesDays: 30, outputToUserDays: 30, now: Date.now(), timezone: 'Europe/Berlin' })
  assert.deepEqual((await readdir(join(home, 'workspace', 'telegram_files'))).sort(), ['AGENTS.md', 'CLAUDE.md'])
  assert.deepEqual(await checkPythonHome(home), [])
})

test('the checker refuses what the Python version cannot load', () => {
  const entry = { chat_id: 1, provider: 'claude', model: 'opus', created_at: '2026-01-01T00:00:00+00:00', last_active: '2026-01-01T00:00:00+00:00', provider_sessions: {} }
  assert.deepEqual(checkSessions({ 1: entry }), [])
  assert.match(checkSessions({ 1: { ...entry, reasoning_effort: 'high' } }).join('\n'), /unexpected keyword argument 'reasoning_effort'/)
  assert.match(checkSessions({ 1: { ...entry, provider_sessions: { claude: { session_id: 'x', message_count: 'many', total_cost_usd: 0, total_tokens: 0 } } } }).join('\n'), /message_count/)
})

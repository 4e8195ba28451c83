import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, symlink, writeFile, chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import type { StoredMessage } from '../../fakes/bot-api/server.ts'
import { installKind } from '../../../src/ops/upgrade.ts'
import { packageRoot } from '../../../src/ops/service-spec.ts'
import { STALE_NOTE } from '../../../src/telegram/panels/files-panel.ts'
import { cleanups, startBot, until, STRANGER, type BotHarness } from '../helpers.ts'

type Keyboard = Array<Array<{ text: string, callback_data: string }>>
const keyboard = (m: StoredMessage): Keyboard => (m.reply_markup as { inline_keyboard?: Keyboard } | undefined)?.inline_keyboard ?? []
const buttons = (m: StoredMessage): string[] => keyboard(m).flat().map((b) => b.text)
let nextUpdate = 900_000
let nextQuery = 1

/** Panel tests through the real webhook route, the real bot and the fake Bot API; one chat per test. */
describe('Telegram panels', () => {
  let bot: BotHarness
  let registry: Server
  let latest = '9.9.9'
  const cleanup = cleanups()
  const outside = mkdtemp(join(tmpdir(), 'ductor-outside-'))
  after(async () => {
    await cleanup.run()
    registry?.close()
    await rm(await outside, { recursive: true, force: true })
  })
  before(async () => {
    registry = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ name: 'ductor', version: latest, url: req.url }))
    })
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    bot = await startBot(cleanup)
  })

  /** The first message of the chat matching `text`. */
  const panel = async (chatId: number, text: RegExp): Promise<StoredMessage> => await bot.waitMessage((m) => text.test(m.text), `a message matching ${text}`, chatId)
  /** Presses the button labelled `label` on message `m` as user `from`; returns the answerCallbackQuery params. */
  async function press (m: StoredMessage, label: string | { data: string }, from = m.chat_id): Promise<Record<string, unknown>> {
    const data = typeof label === 'string' ? keyboard(m).flat().find((b) => b.text === label)?.callback_data : label.data
    assert.ok(data !== undefined, `no button "${String(label)}" in ${JSON.stringify(buttons(m))}`)
    const id = `q${nextQuery++}`
    const res = await bot.post({
      update_id: nextUpdate++,
      callback_query: {
        id,
        from: { id: from, is_bot: false, first_name: 'Ann' },
        chat_instance: 'ci',
        data,
        message: { message_id: m.message_id, date: m.date, chat: { id: m.chat_id, type: 'private', first_name: 'Ann' }, text: m.text }
      }
    })
    assert.equal(res.status, 200)
    let answered: Record<string, unknown> | undefined
    await until(() => { answered = bot.fake.callsOf('answerCallbackQuery').find((c) => c.params.callback_query_id === id)?.params; return answered !== undefined }, `the answer to ${data}`)
    return answered as Record<string, unknown>
  }
  const current = (m: StoredMessage): StoredMessage => bot.messages(m.chat_id).find((x) => x.message_id === m.message_id) as StoredMessage

  test('/model: provider → model → reasoning, edited in place, then the default switched in config.json (as in the Python version)', async () => {
    const chat = 111
    await bot.say('/model', { chatId: chat, from: chat })
    const m = await panel(chat, /Pick a provider/)
    assert.match(m.text, /Now: Claude Code · opus/)
    assert.deepEqual(buttons(m), ['✓ Claude Code', 'Codex'])
    await press(m, 'Codex')
    await until(() => /Codex models/.test(current(m).text), 'the Codex models')
    assert.deepEqual(buttons(current(m)), ['gpt-5.5', 'gpt-5.5-codex', 'gpt-5.5-mini', '« Back'])
    await press(current(m), 'gpt-5.5-codex')
    await until(() => /Reasoning level for gpt-5\.5-codex/.test(current(m).text), 'the reasoning levels')
    assert.deepEqual(buttons(current(m)), ['low', 'medium', 'high', 'xhigh', '« Back'])
    await press(current(m), 'high')
    await until(() => /Switched the default to Codex · gpt-5\.5-codex \(reasoning high\), saved in config\.json/.test(current(m).text), 'the switch')
    assert.deepEqual(buttons(current(m)), [])
    assert.equal(bot.messages(chat).length, 1, 'every step edited the one panel message')
    const file = JSON.parse(await readFile(bot.paths.config, 'utf8')) as Record<string, unknown>
    assert.deepEqual([file.provider, file.model, file.reasoning_effort], ['codex', 'gpt-5.5-codex', 'high'])
    assert.equal(bot.app.settings.config().model, 'gpt-5.5-codex', 'applied at once')
    assert.equal(bot.app.stores.sessions.get(String(chat))?.['reasoning_effort'], undefined, 'nothing added to the chat\'s sessions.json entry')
    await bot.say('/model', { chatId: chat, from: chat })
    const again = await bot.waitMessage((x) => x.message_id !== m.message_id && /Pick a provider/.test(x.text), 'the second panel', chat)
    assert.match(again.text, /Now: Codex · gpt-5\.5-codex \(reasoning high\)/)
    await press(again, 'Claude Code')
    await until(() => /Claude Code models/.test(current(again).text), 'the Claude models')
    await press(current(again), 'sonnet')
    await until(() => /Switched the default to Claude Code · sonnet/.test(current(again).text), 'the switch to sonnet')
    assert.equal(bot.app.settings.config().model, 'sonnet')
    await bot.say('/model opus', { chatId: chat, from: chat })
    await until(() => bot.app.settings.config().model === 'opus', 'the switch back to opus')
  })

  test('/model refuses while the chat is busy, and so do its buttons', async () => {
    const chat = 112
    await bot.say('/model', { chatId: chat, from: chat })
    const m = await panel(chat, /Pick a provider/)
    await bot.say('think long [[hang]]', { chatId: chat, from: chat })
    await until(() => bot.app.orchestrator.isBusy(String(chat)), 'the chat to be busy')
    await bot.say('/model', { chatId: chat, from: chat })
    await panel(chat, /^A reply is still running/)
    const answered = await press(m, 'Codex')
    assert.equal(answered.text, 'A reply is still running.')
    await until(() => /^A reply is still running/.test(current(m).text), 'the panel to say it is busy')
    assert.equal(bot.app.stores.sessions.get(String(chat))?.provider ?? 'claude', 'claude')
    await bot.say('/stop', { chatId: chat, from: chat })
    await until(() => !bot.app.orchestrator.isBusy(String(chat)), 'the run to stop')
  })

  test('/cron: jobs with next run in their zone, paging, one-tap disable, all off/on, written to cron_jobs.json', async () => {
    const chat = 113
    for (let i = 1; i <= 7; i++) {
      await bot.app.automation.cron.store.create({ id: `job-${i}`, title: `Job ${i}`, schedule: `${i} 8 * * *`, ...(i === 1 ? { timezone: 'Asia/Tokyo' } : {}) })
    }
    const onDisk = async (): Promise<Record<string, boolean>> => Object.fromEntries((JSON.parse(await readFile(bot.paths.cronJobs, 'utf8')) as { jobs: Array<{ id: string, enabled: boolean }> }).jobs.map((j) => [j.id, j.enabled]))
    await bot.say('/cron', { chatId: chat, from: chat })
    const m = await panel(chat, /Cron jobs: 7, 7 enabled · page 1\/2/)
    assert.match(m.text, /✅ Job 1 · 1 8 \* \* \*\n {4}next \w{3} \d{1,2} \w{3}, 08:01 \(Asia\/Tokyo\) · last: never run/)
    assert.match(m.text, /Job 5/)
    assert.doesNotMatch(m.text, /Job 6/)
    assert.deepEqual(buttons(m), ['⏸ Disable Job 1', '⏸ Disable Job 2', '⏸ Disable Job 3', '⏸ Disable Job 4', '⏸ Disable Job 5', '1/2', 'Next »', 'All on', 'All off', '↻ Refresh'])
    await press(m, 'Next »')
    await until(() => /page 2\/2/.test(current(m).text), 'page 2')
    assert.deepEqual(buttons(current(m)).slice(0, 2), ['⏸ Disable Job 6', '⏸ Disable Job 7'])
    const answered = await press(current(m), '⏸ Disable Job 6')
    assert.equal(answered.text, 'Job 6: disabled.')
    await until(() => /Job 6: disabled\./.test(current(m).text), 'the panel to show the change')
    assert.match(current(m).text, /⏸ Job 6 · 6 8 \* \* \*\n {4}disabled/)
    assert.equal(buttons(current(m))[0], '▶ Enable Job 6')
    assert.equal((await onDisk())['job-6'], false)
    assert.equal(bot.app.automation.cron.nextRunOf('job-6'), null, 'the scheduler no longer plans it')
    await press(current(m), 'All off')
    await until(() => /Disabled 6 jobs\./.test(current(m).text), 'all off')
    assert.deepEqual(Object.values(await onDisk()), Array(7).fill(false))
    await press(current(m), 'All on')
    await until(() => /Enabled 7 jobs\./.test(current(m).text), 'all on')
    assert.deepEqual(Object.values(await onDisk()), Array(7).fill(true))
    assert.equal(bot.messages(chat).length, 1)
  })

  test('button presses of users who are not allowed are answered and change nothing', async () => {
    const chat = 114
    await bot.say('/cron', { chatId: chat, from: chat })
    const m = await panel(chat, /Cron jobs/)
    const before = await readFile(bot.paths.cronJobs, 'utf8')
    const answered = await press(m, 'All off', STRANGER)
    assert.match(String(answered.text), /not allowed/i)
    assert.equal(await readFile(bot.paths.cronJobs, 'utf8'), before)
    assert.equal(current(m).edits, 0)
  })

  test('/cron: a broken hand edit of cron_jobs.json is not overwritten by a tap; the panel says why', async () => {
    const chat = 119
    await bot.say('/cron', { chatId: chat, from: chat })
    const m = await panel(chat, /Cron jobs: 7/)
    const good = await readFile(bot.paths.cronJobs, 'utf8')
    const broken = good.replace('"jobs"', '"jobs" oops')
    await writeFile(bot.paths.cronJobs, broken)
    const answered = await press(m, '⏸ Disable Job 1')
    assert.match(String(answered.text), /^Not changed: cron_jobs\.json was edited by hand and is not valid/)
    await until(() => /Not changed/.test(current(m).text), 'the note on the panel')
    assert.equal(await readFile(bot.paths.cronJobs, 'utf8'), broken)
    await writeFile(bot.paths.cronJobs, good)
    await bot.app.automation.cron.store.reload()
  })

  test('/showfiles: browse the home, receive a file, refuse a symlink out, stale tokens get a note', async () => {
    const chat = 115
    const out = await outside
    await writeFile(join(out, 'secret.txt'), 'not yours')
    await mkdir(join(bot.paths.outputToUser), { recursive: true })
    await writeFile(join(bot.paths.outputToUser, 'report.txt'), 'the report')
    await symlink(join(out, 'secret.txt'), join(bot.home, 'escape.txt'))
    await bot.say('/showfiles', { chatId: chat, from: chat })
    const m = await panel(chat, /^📁 home\n/)
    assert.ok(buttons(m).includes('📁 workspace'), JSON.stringify(buttons(m)))
    assert.ok(buttons(m).includes('📄 escape.txt ↗ · 9 B'), JSON.stringify(buttons(m)))
    const refused = await press(m, '📄 escape.txt ↗ · 9 B')
    assert.match(String(refused.text), /Refused: escape\.txt: it points outside the home directory/)
    await press(current(m), '📁 config')
    await until(() => /home\/config\n/.test(current(m).text), 'the config folder')
    const configLabel = buttons(current(m)).find((b) => b.startsWith('📄 config.json')) ?? ''
    const secret = await press(current(m), configLabel)
    assert.match(String(secret.text), /config\.json holds ductor's tokens; it is not sent into a chat/)
    await press(current(m), '⬆ Up')
    await until(() => /^📁 home\n/.test(current(m).text), 'back home')
    await press(current(m), '📁 workspace')
    await until(() => /home\/workspace/.test(current(m).text), 'the workspace folder')
    await press(current(m), '📁 output_to_user')
    await until(() => /home\/workspace\/output_to_user/.test(current(m).text), 'the output folder')
    await press(current(m), '📄 report.txt · 10 B')
    const doc = await bot.waitMessage((x) => x.kind === 'document', 'the document', chat)
    assert.equal(doc.file?.file_name, 'report.txt')
    assert.equal(doc.file?.size, 10)
    assert.equal(bot.messages(chat).filter((x) => x.kind === 'document').length, 1, 'only the report was sent')
    await press(current(m), '⬆ Up')
    await until(() => /^📁 home\/workspace\n/.test(current(m).text), 'back up')
    const stale = await press(current(m), { data: 'fls:AAAAAAAA:1:o0' })
    assert.equal(stale.text, STALE_NOTE)
    assert.equal(stale.show_alert, true)
    assert.deepEqual(bot.fake.callsOf('sendDocument').filter((c) => Number(c.params.chat_id) === chat).flatMap((c) => c.files.map((f) => f.filename)), ['report.txt'])
  })

  test('/diagnose: version, provider, model and the recent log with secrets scrubbed', async () => {
    const chat = 116
    const token = bot.app.settings.config().telegram_token
    await mkdir(bot.paths.logs, { recursive: true })
    await writeFile(join(bot.paths.logs, 'ductor.log'), [
      JSON.stringify({ level: 30, time: '2026-12-01T10:00:00.000Z', msg: 'ductor is listening' }),
      JSON.stringify({ level: 50, time: '2026-12-01T10:00:05.000Z', msg: `GET https://api.telegram.org/bot${token}/getMe failed`, component: 'telegram' })
    ].join('\n') + '\n')
    await bot.say('/diagnose', { chatId: chat, from: chat })
    const m = await panel(chat, /^ductor 0\.0\.0-test/)
    assert.match(m.text, /Provider: claude · model opus/)
    assert.match(m.text, /Session: none yet/)
    assert.match(m.text, /10:00:00 INFO ductor is listening\n10:00:05 ERROR GET https:\/\/api\.telegram\.org\/bot\[REDACTED\]\/getMe failed \(telegram\)/)
    assert.ok(!m.text.includes(token))
    assert.ok(m.entities.some((e) => e.type === 'pre'))
  })

  test('/info says what ductor is, its version and the commands', async () => {
    const chat = 117
    await bot.say('/info', { chatId: chat, from: chat })
    const m = await panel(chat, /^ductor 0\.0\.0-test/)
    assert.match(m.text, /self-hosted personal AI assistant/)
    assert.match(m.text, /\/cron — scheduled jobs/)
    assert.match(m.text, /\/showfiles — browse/)
  })

  test('/upgrade: offers a newer version, says plainly when the registry cannot be reached', async () => {
    const chat = 118
    const address = registry.address() as { port: number }
    const fakeNpm = await mkdtemp(join(tmpdir(), 'ductor-npm-'))
    const npmLog = join(fakeNpm, 'calls.log')
    await writeFile(join(fakeNpm, 'npm'), `#!/bin/sh\necho "$@" >> ${npmLog}\n`)
    await chmod(join(fakeNpm, 'npm'), 0o755)
    const saved = { registry: process.env['npm_config_registry'], path: process.env['PATH'] }
    after(async () => {
      process.env['npm_config_registry'] = saved.registry
      process.env['PATH'] = saved.path
      await rm(fakeNpm, { recursive: true, force: true })
    })
    process.env['PATH'] = `${fakeNpm}${delimiter}${saved.path ?? ''}`
    process.env['npm_config_registry'] = 'http://127.0.0.1:1'
    await bot.say('/upgrade', { chatId: chat, from: chat })
    const offline = await panel(chat, /^Cannot check for updates: cannot reach the npm registry at http:\/\/127\.0\.0\.1:1/)
    assert.match(offline.text, installKind(packageRoot()) === 'git' ? /To upgrade by hand, this ductor runs from a git checkout .*git pull && npm ci && npm run build/ : /To upgrade by hand, install the new version the way you installed this one/)
    process.env['npm_config_registry'] = `http://127.0.0.1:${address.port}`
    latest = '0.0.0-test'
    await bot.say('/upgrade', { chatId: chat, from: chat })
    await panel(chat, /^ductor 0\.0\.0-test is up to date/)
    latest = '9.9.9'
    await bot.say('/upgrade', { chatId: chat, from: chat })
    const kind = installKind(packageRoot())
    if (kind === 'git') {
      const m = await panel(chat, /^ductor 9\.9\.9 is available \(this is 0\.0\.0-test\), but this ductor runs from a git checkout/)
      assert.deepEqual(buttons(m), [])
      await press(m, { data: 'upg:go' })
      await until(() => /git checkout/.test(current(m).text) && current(m).edits > 0, 'the press to say why it cannot')
      assert.equal(bot.restarts, 0)
      await assert.rejects(readFile(npmLog, 'utf8'), 'npm was never run')
    } else {
      const m = await panel(chat, /^ductor 9\.9\.9 is available/)
      assert.deepEqual(buttons(m), ['Upgrade to 9.9.9'])
      await press(m, 'Upgrade to 9.9.9')
      await until(() => /Installed ductor 9\.9\.9\. Restarting now/.test(current(m).text), 'the install')
      assert.equal(bot.restarts, 1)
      assert.match(await readFile(npmLog, 'utf8'), /install --global ductor@9\.9\.9/)
      assert.equal(JSON.parse(await readFile(join(bot.paths.state, 'upgrade.json'), 'utf8')).chat_id, chat)
    }
  })
})

import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { access, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cleanups, startBot, until, USER, STRANGER, type BotHarness } from '../telegram/helpers.ts'
import { prepareClaudeEnv, CLAUDE_BIN, type RealCliEnv } from '../e2e-support/real-cli-env.ts'
import { ADMIN_TOKEN, waitFor } from '../helper.ts'
import type { ModelCall, FakeReply } from '../fakes/model-api/script.ts'
import type { StoredMessage } from '../fakes/bot-api/methods.ts'

// Issue 21 through the real entry points: the real `claude` (2.1.197) against a fake model API that
// asks to run a shell command or to write a file; the service in `permission_mode: "ask"` shows the
// request in the fake Telegram (and on the admin API's SSE stream); the user's answer decides.

const COMMAND = 'echo approved > approved.txt && echo ran'
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

describe('permission_mode "ask" with the real claude', { timeout: 180_000 }, () => {
  const c = cleanups()
  after(c.run)
  let bot: BotHarness
  let cli: RealCliEnv
  let adminUrl: string
  const workspace = (): string => bot.paths.workspace
  const exists = async (name: string): Promise<boolean> => await access(join(workspace(), name)).then(() => true, () => false)

  // The model: `WRITE <name>` asks to write that file, anything else to run COMMAND; a tool result is quoted.
  const script = (call: ModelCall): FakeReply | string => {
    if (call.toolResult !== undefined) return `The tool said: ${call.toolResult}`
    const write = /WRITE (\S+)/.exec(call.prompt)
    if (write?.[1] !== undefined) return { kind: 'tool', text: 'I will write a file.', name: 'Write', command: '', input: { file_path: join(workspace(), write[1]), content: 'hello from the agent\n' } }
    return { kind: 'tool', text: 'I will run a command.', command: COMMAND }
  }

  test('setup', async () => {
    cli = await prepareClaudeEnv({ reply: script })
    c.after(cli.cleanup)
    bot = await startBot(c, {
      env: cli.env,
      config: {
        model: 'sonnet',
        cli_paths: { claude: CLAUDE_BIN },
        // Chat 111 asks; the API's chat "phone" too; the timeout is short for the test.
        approvals: { timeout_seconds: 3, chats: { [String(USER)]: 'ask', phone: 'ask' } }
      }
    })
    adminUrl = await bot.app.listenAdmin({ host: '127.0.0.1', port: 0 })
    bot.app.settings.setApiUrl(adminUrl)
  })

  // A request message loses its "Approve?" once settled: wait for one newer than any seen so far.
  let lastSeen = 0
  const requestMessage = async (): Promise<StoredMessage> => {
    const m = await waitFor(() => bot.messages().find((m) => m.message_id > lastSeen && m.text.includes('Approve?')), 30_000, 'an approval request')
    lastSeen = Math.max(...bot.messages().map((x) => x.message_id))
    return m
  }
  const buttonData = (m: StoredMessage, label: string): string => {
    const rows = (m.reply_markup as { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }).inline_keyboard
    const button = rows.flat().find((b) => b.text.includes(label))
    assert.ok(button !== undefined, `button ${label}`)
    return button.callback_data
  }
  const finalReply = async (text: string): Promise<StoredMessage> => await bot.waitMessage((m) => m.text.includes(text), `reply "${text}"`)

  test('Telegram: the user sees the command and taps Allow once: it runs', async () => {
    await bot.say('please run it')
    const ask = await requestMessage()
    assert.match(ask.text, /Run a command \(Bash\)/)
    assert.ok(ask.text.includes(`$ ${COMMAND}`), ask.text)
    assert.equal(await exists('approved.txt'), false, 'nothing ran before the answer')
    // A stranger's press and a forged id change nothing.
    await bot.press(ask, buttonData(ask, 'Allow once'), STRANGER)
    await bot.press(ask, `ap:${'0'.repeat(32)}:a`)
    assert.equal(bot.app.approvals.pending().length, 1, 'still waiting')
    await bot.press(ask, buttonData(ask, 'Allow once'))
    await finalReply('The tool said: ran')
    assert.equal(await readFile(join(workspace(), 'approved.txt'), 'utf8'), 'approved\n')
    await until(() => bot.messages().some((m) => m.message_id === ask.message_id && m.text.includes('Allowed once.')), 'the request message says it was allowed')
    const edited = bot.messages().find((m) => m.message_id === ask.message_id)
    assert.deepEqual((edited?.reply_markup as { inline_keyboard: unknown[] } | undefined)?.inline_keyboard ?? [], [], 'its buttons are gone')
    const answers = bot.fake.callsOf('answerCallbackQuery').map((call) => String(call.params['text']))
    assert.ok(answers.includes('You are not allowed to use this bot.'))
    assert.ok(answers.some((a) => a.startsWith('This request is no longer waiting')), 'the forged id is refused')
  })

  test('Telegram: Deny: the command does not run and the agent is told; a replayed Allow changes nothing', async () => {
    await rm(join(workspace(), 'approved.txt'), { force: true })
    await bot.say('please run it again')
    const ask = await requestMessage()
    const allow = buttonData(ask, 'Allow once')
    await bot.press(ask, buttonData(ask, 'Deny'))
    const reply = await finalReply('The tool said: The user denied this request')
    assert.ok(reply.text.includes('The tool said: The user denied'))
    await bot.press(ask, allow)
    assert.equal(await exists('approved.txt'), false, 'the command never ran')
    const lastCall = cli.api.calls.at(-1)
    assert.match(lastCall?.toolResult ?? '', /The user denied this request/)
  })

  test('Telegram: nobody answers: denied at the timeout, and the message says so', async () => {
    await bot.say('run it while I sleep')
    const ask = await requestMessage()
    const allow = buttonData(ask, 'Allow once')
    await finalReply('The tool said: Nobody answered within 3 s')
    assert.equal(await exists('approved.txt'), false)
    await until(() => bot.messages().some((m) => m.message_id === ask.message_id && m.text.includes('Denied: nobody answered within 3 s.')), 'the request message says it timed out')
    await bot.press(ask, allow)
    assert.equal(await exists('approved.txt'), false, 'a press after the timeout changes nothing')
  })

  test('Telegram: a file write shows the file and its content; Always allow remembers it, /permissions lists and revokes it', async () => {
    await bot.say('WRITE notes.txt')
    const ask = await requestMessage()
    assert.match(ask.text, /Write a file \(Write\)/)
    assert.ok(ask.text.includes(join(workspace(), 'notes.txt')))
    assert.ok(ask.text.includes('+ hello from the agent'), ask.text)
    await bot.press(ask, buttonData(ask, 'Always allow'))
    await finalReply('The tool said: File created successfully')
    assert.equal(await readFile(join(workspace(), 'notes.txt'), 'utf8'), 'hello from the agent\n')
    await rm(join(workspace(), 'notes.txt'))
    const asked = bot.fake.callsOf('sendMessage').filter((call) => String(call.params['text']).includes('Approve?')).length
    await bot.say('WRITE notes.txt')
    await waitFor(async () => await exists('notes.txt') ? true : undefined, 30_000, 'the remembered rule lets it write')
    await finalReply('The tool said: File created successfully')
    assert.equal(bot.fake.callsOf('sendMessage').filter((call) => String(call.params['text']).includes('Approve?')).length, asked, 'not asked again')
    await bot.say('/permissions')
    const list = await bot.waitMessage((m) => m.text.includes('Always allowed here'), '/permissions')
    assert.ok(list.text.includes(`Write(${join(workspace(), 'notes.txt')})`))
    await bot.press(list, buttonData(list, 'Revoke 1'))
    await until(() => bot.app.approvals.rules(String(USER)).length === 0, 'the rule is revoked')
  })

  test('admin API: the SSE stream carries the request; POST /api/approvals/:id answers it (allow, then deny)', async () => {
    for (const [action, expected] of [['allow', 'The tool said: ran'], ['deny', 'The tool said: The user denied this request']] as const) {
      await rm(join(workspace(), 'approved.txt'), { force: true })
      const res = await fetch(`${adminUrl}/api/chats/phone/messages`, { method: 'POST', headers: { ...auth, accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify({ text: 'run it' }) })
      assert.equal(res.status, 200)
      const reader = res.body?.getReader()
      assert.ok(reader !== undefined)
      const events: Array<{ event: string, data: Record<string, unknown> }> = []
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += Buffer.from(value).toString('utf8')
        let cut
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const [e = '', d = ''] = buffer.slice(0, cut).split('\n')
          buffer = buffer.slice(cut + 2)
          const event = { event: e.slice('event: '.length), data: JSON.parse(d.slice('data: '.length)) as Record<string, unknown> }
          events.push(event)
          if (event.event === 'approval') {
            assert.equal(event.data['tool'], 'Bash')
            assert.equal(event.data['detail'], `$ ${COMMAND}\n(Run ${COMMAND})`)
            const listed = await (await fetch(`${adminUrl}/api/approvals`, { headers: auth })).json() as { approvals: Array<{ id: string }> }
            assert.deepEqual(listed.approvals.map((a) => a.id), [event.data['id']])
            const answer = await fetch(`${adminUrl}/api/approvals/${String(event.data['id'])}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ action }) })
            assert.equal(answer.status, 200)
            const again = await fetch(`${adminUrl}/api/approvals/${String(event.data['id'])}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'allow' }) })
            assert.equal(again.status, 404, 'a second answer changes nothing')
          }
        }
      }
      const names = events.map((e) => e.event)
      assert.ok(names.includes('approval') && names.includes('approval_settled'), names.join(','))
      const result = events.at(-1)?.data
      assert.equal(result?.['status'], 'success')
      assert.ok(String(result?.['reply']).startsWith(expected), String(result?.['reply']))
      assert.equal(await exists('approved.txt'), action === 'allow')
    }
  })

  test('a cron job in ask mode (run now): the real claude asks the job\'s chats; Allow once runs the command in its task folder', async () => {
    const created = await fetch(`${adminUrl}/api/cron`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'nightly', title: 'Nightly backup', schedule: '0 3 * * *', task_description: 'Back up.', permission_mode: 'ask' }) })
    assert.equal(created.status, 201)
    const run = await (await fetch(`${adminUrl}/api/cron/nightly/run`, { method: 'POST', headers: auth })).json() as { run_id: string }
    const ask = await requestMessage()
    assert.ok(ask.text.includes('For the cron job "Nightly backup"'), ask.text)
    assert.ok(ask.text.includes(`$ ${COMMAND}`), ask.text)
    await bot.press(ask, buttonData(ask, 'Allow once'))
    const ended = await waitFor(async () => {
      const res = await fetch(`${adminUrl}/api/runs/${run.run_id}`, { headers: auth })
      const body = res.status === 200 ? await res.json() as { status: string, reply: string } : undefined
      return body !== undefined && body.status !== 'running' ? body : undefined
    }, 60_000, 'the job\'s run')
    assert.equal(ended.status, 'success')
    assert.equal(ended.reply, 'The tool said: ran')
    assert.equal(await readFile(join(bot.paths.cronTasks, 'nightly', 'approved.txt'), 'utf8'), 'approved\n')
    await finalReply('The tool said: ran')
  })
})

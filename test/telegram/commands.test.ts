import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ADMIN_TOKEN } from '../helper.ts'
import { localTime } from '../../src/core/core-commands.ts'
import type { StoredMessage } from '../fakes/bot-api/server.ts'
import { cleanups, startBot, until, type BotHarness } from './helpers.ts'

type Keyboard = { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }

/**
 * Issue 22: one command table, whichever way a command arrives — typed, a button, `ductor chat` /
 * the admin API — so no ductor command reaches the CLI, and a button can carry any command.
 */
describe('the command table', () => {
  let bot: BotHarness
  const cleanup = cleanups()
  after(cleanup.run)
  before(async () => { bot = await startBot(cleanup) })

  /** Runs the CLI started, for this chat (every run is recorded in the run history). */
  const runsOf = (chat: number): number => bot.app.stores.runs.list().filter((r) => r.chat_id === String(chat)).length

  test('every button of the /start welcome does what its label says, and none starts a run', async () => {
    const chat = 111
    await bot.say('/start', { chatId: chat, from: chat })
    const welcome = await bot.waitMessage((m) => m.text.startsWith('Hi Ann!'), 'the welcome', chat)
    // The three quick-start prompts (they start a run by design: test/telegram/welcome.test.ts) come first.
    const buttons = (welcome.reply_markup as Keyboard).inline_keyboard.flat().filter((b) => !b.callback_data.startsWith('w:'))
    assert.deepEqual(buttons.map((b) => b.text), ['📊 Status', '🧠 Memory', '🆕 New session', '❓ Help'])
    const expected: Record<string, RegExp> = {
      '📊 Status': /No session yet|Session:/,
      '🧠 Memory': /memory/i,
      '🆕 New session': /Starting fresh|Fresh .* session/,
      '❓ Help': /^Commands\n\/start — welcome/
    }
    for (const b of buttons) {
      const before = bot.messages(chat).length
      await bot.press(welcome, b.callback_data)
      const answer = await bot.waitMessage((m) => bot.messages(chat).indexOf(m) >= before && (expected[b.text] as RegExp).test(m.text), `the answer to ${b.text}`, chat)
      assert.ok(answer !== undefined)
    }
    const help = bot.texts(chat).find((t) => t.startsWith('Commands')) ?? ''
    for (const name of ['start', 'help', 'new', 'stop', 'status', 'model', 'memory', 'cron', 'skills', 'permissions', 'showfiles', 'diagnose', 'info', 'restart', 'upgrade']) assert.match(help, new RegExp(`/${name} — `))
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(runsOf(chat), 0, 'a button started a CLI run')
    assert.equal(bot.fake.callsOf('answerCallbackQuery').length >= 4, true, 'every press was answered')
  })

  test('a button can carry any command: a panel (/cron), a command with arguments (/model opus), /stop', async () => {
    const chat = 112
    await bot.say('/start', { chatId: chat, from: chat })
    const host = await bot.waitMessage((m) => m.text.startsWith('Hi Ann!'), 'a message to press buttons on', chat)
    const pressFor = async (data: string, what: RegExp): Promise<StoredMessage> => {
      const before = bot.messages(chat).length
      await bot.press(host, data)
      return await bot.waitMessage((m) => bot.messages(chat).indexOf(m) >= before && what.test(m.text), `the answer to a ${data} button`, chat)
    }
    await pressFor('/cron', /job/i)
    await pressFor('/model opus', /Switched .*opus/)
    await pressFor('/stop', /Nothing is running/)
    await pressFor('/info', /^ductor 0\.0\.0-test/)
    assert.equal(runsOf(chat), 0)
  })

  test('typed commands never reach the CLI; an unknown slash command still does', async () => {
    const chat = 113
    for (const text of ['/help', '/status', '/memory', '/info', '/cron', '/showfiles', '/diagnose']) await bot.say(text, { chatId: chat, from: chat })
    await until(() => bot.messages(chat).length >= 7, 'seven answers')
    assert.equal(runsOf(chat), 0)
    await bot.say('/myskill go [[reply:the agent ran]]', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'the agent ran', 'the agent\'s answer to a slash command of its own', chat)
    assert.equal(runsOf(chat), 1, 'that one ran the CLI')
  })

  test('in a group, a command after the bot\'s mention is a command too, never a prompt', async () => {
    const group = -100113
    for (const text of ['@ductor_test_bot /help', '@ductor_test_bot /status', '@ductor_test_bot /stop']) await bot.say(text, { chatId: group, from: 111 })
    await until(() => bot.messages(group).length >= 3, 'three answers in the group')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(runsOf(group), 0, 'a command in a group started a CLI run')
  })

  test('the admin API (and so `ductor chat`) answers every ductor command from the same table, without a run', async () => {
    const chatId = 'api_commands'
    const adminUrl = await bot.app.listenAdmin({ host: '127.0.0.1', port: 0 })
    const ask = async (text: string): Promise<{ status: string, reply: string, run_id: string | null }> => {
      const res = await fetch(`${adminUrl}/api/chats/${chatId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text })
      })
      assert.equal(res.status, 200)
      return await res.json() as { status: string, reply: string, run_id: string | null }
    }
    const answers: Record<string, RegExp> = {
      '/start': /^Hi! I am your ductor assistant/,
      '/help': /^\*\*Commands\*\*\n\/start — /,
      '/info': /^\*\*ductor /,
      '/cron': /scheduled jobs/i,
      '/showfiles': /Telegram panel/,
      '/diagnose': /ductor doctor/,
      '/restart': /restart the service where it runs/,
      '/upgrade': /ductor upgrade/,
      '/stop': /Nothing is running/,
      '/status': /No session yet/
    }
    for (const [text, pattern] of Object.entries(answers)) {
      const answer = await ask(text)
      assert.equal(answer.status, 'success', text)
      assert.equal(answer.run_id, null, `${text} started a run`)
      assert.match(answer.reply, pattern, text)
    }
    assert.equal(bot.app.stores.runs.list().filter((r) => r.chat_id === chatId).length, 0)
  })
  test('/status: the session\'s own start (a new one after /new), "1 message", times in user_timezone', async () => {
    const chat = 114
    const zone = 'Asia/Kathmandu'
    bot.app.settings.applyConfig({ ...bot.app.settings.config(), user_timezone: zone })
    const statusText = async (): Promise<string> => {
      const before = bot.messages(chat).length
      await bot.say('/status', { chatId: chat, from: chat })
      const m = await bot.waitMessage((x) => bot.messages(chat).indexOf(x) >= before && /^Claude Code|Codex/.test(x.text) && /Started/.test(x.text), 'the status', chat)
      return m.text
    }
    const bucket = (): { started_at?: string } => (bot.app.stores.sessions.get(String(chat))?.provider_sessions['claude'] ?? {}) as { started_at?: string }
    // The reply reaches Telegram at the CLI's result line; the session is saved when the run ends,
    // a moment later (under load, after a /status sent at once): wait for that, not for the reply.
    const saved = async (previous?: string): Promise<void> => {
      await until(() => { const at = bucket().started_at; return at !== undefined && at !== previous && runsOf(chat) > 0 && bot.app.inbox.inFlight() === 0 }, 'the run\'s session saved')
    }
    await bot.say('hello [[reply:one]]', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'one', 'the first answer', chat)
    await saved()
    const first = await statusText()
    assert.match(first, /Session: .*, 1 message, /)
    const firstStart = bucket().started_at ?? ''
    assert.match(first, new RegExp(`Started ${localTime(firstStart, zone)}, last active .* \\(Asia/Kathmandu\\)`))
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await bot.say('/new', { chatId: chat, from: chat })
    await bot.waitMessage((m) => /Fresh .* session|Starting fresh/.test(m.text), 'the new session', chat)
    await bot.say('again [[reply:two]]', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'two', 'the second answer', chat)
    await saved(firstStart)
    const second = await statusText()
    const secondStart = bucket().started_at ?? ''
    assert.ok(Date.parse(secondStart) > Date.parse(firstStart), 'the new session has its own start')
    assert.match(second, new RegExp(`Started ${localTime(secondStart, zone)},`))
    const chatStart = bot.app.stores.sessions.get(String(chat))?.created_at ?? ''
    assert.ok(!second.includes(`Started ${localTime(chatStart, zone)},`), 'it shows the chat\'s first start')
    assert.match(second, /, 1 message, /)
  })
})

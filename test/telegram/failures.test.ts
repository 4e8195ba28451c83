import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import type { StoredMessage } from '../fakes/bot-api/server.ts'
import { GENERIC_FAILURE } from '../../src/telegram/failure.ts'
import { cleanups, startBot, until, type BotHarness } from './helpers.ts'

type Keyboard = Array<Array<{ text: string, callback_data: string }>>
const keyboard = (m: StoredMessage): Keyboard => (m.reply_markup as { inline_keyboard?: Keyboard } | undefined)?.inline_keyboard ?? []
let nextUpdate = 950_000
let nextQuery = 1

/**
 * ADR 0044 (breakit report 1, F3): a command, message or button press that fails is answered —
 * with the sentence the admin API gives (a DuctorError's message) or a short apology — never
 * with silence, never with a stack trace; the log keeps the detail.
 */
describe('Telegram: failures are answered', () => {
  let bot: BotHarness
  const cleanup = cleanups()
  after(cleanup.run)
  before(async () => { bot = await startBot(cleanup) })

  /** Breaks config.json as a hand edit would (a stray comma); returns a function that restores it. */
  async function breakConfig (): Promise<{ broken: string, restore: () => Promise<void> }> {
    const good = await readFile(bot.paths.config, 'utf8')
    const broken = good.replace(/("model": "[^"]*",)/, '$1,')
    assert.notEqual(broken, good)
    await writeFile(bot.paths.config, broken)
    return { broken, restore: async () => { await writeFile(bot.paths.config, good) } }
  }
  const logLines = (): Array<Record<string, unknown>> => bot.logs.map((l) => JSON.parse(l) as Record<string, unknown>)

  test('/model opus with a broken config.json: the chat gets the refusal the admin API gives, the file is untouched', async () => {
    const chat = 111
    const { broken, restore } = await breakConfig()
    try {
      const patched = await bot.app.inject({ method: 'PATCH', url: '/api/config', headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' }, payload: { model: 'opus' } })
      assert.equal(patched.statusCode, 409)
      const sentence = (JSON.parse(patched.body) as { message: string }).message
      assert.match(sentence, /not valid JSON.*nothing was changed/)
      await bot.say('/model opus', { chatId: chat, from: chat })
      const told = await bot.waitMessage((m) => m.text.includes('nothing was changed'), 'the refusal', chat)
      assert.equal(told.text, `⚠️ ${sentence}`)
      assert.doesNotMatch(told.text, /\n\s+at /, 'no stack trace')
      assert.equal(await readFile(bot.paths.config, 'utf8'), broken, 'the hand edit is kept')
      const line = logLines().find((l) => l['msg'] === 'telegram: message refused' && l['chatId'] === chat)
      assert.ok(line !== undefined, 'the refusal is logged')
      assert.equal(line['level'], 40)
      assert.equal(line['code'], 'conflict')
      assert.doesNotMatch(JSON.stringify(line), /"stack"/, 'an expected refusal is logged without a stack')
    } finally {
      await restore()
    }
  })

  test('a /model panel button whose switch is refused answers the press and tells the chat', async () => {
    const chat = 112
    await bot.say('/model', { chatId: chat, from: chat })
    const panel = await bot.waitMessage((m) => /Pick a provider/.test(m.text), 'the model panel', chat)
    const { restore } = await breakConfig()
    try {
      const data = keyboard(panel).flat().find((b) => b.text.endsWith('Claude Code'))?.callback_data
      assert.ok(data !== undefined)
      await pressData(panel, data)
      const models = await bot.waitMessage((m) => m.message_id === panel.message_id && /Claude Code models/.test(m.text), 'the Claude models', chat)
      const sonnet = keyboard(models).flat().find((b) => b.text === 'sonnet')?.callback_data
      assert.ok(sonnet !== undefined)
      const answered = await pressData(models, sonnet)
      assert.match(String(answered['text']), /^⚠️ .*config\.json is not valid JSON/)
      await bot.waitMessage((m) => /nothing was changed; fix the file first/.test(m.text), 'the refusal in the chat', chat)
    } finally {
      await restore()
    }
  })

  test('an unexpected failure of a command gets a short apology, not its detail; the log keeps the detail', async () => {
    const chat = 113
    // A command that runs in the chat's lane (not "quick"), as /new does: the lane must not swallow its failure.
    bot.app.orchestrator.commands.register({ name: 'boomtest', description: 'fails', quick: false, listed: false, handler: () => { throw new Error('internal detail 7f3a') } })
    await bot.say('/boomtest', { chatId: chat, from: chat })
    const told = await bot.waitMessage((m) => m.text === GENERIC_FAILURE, 'the apology', chat)
    assert.doesNotMatch(told.text, /7f3a/)
    const line = logLines().find((l) => l['msg'] === 'telegram: message failed' && l['chatId'] === chat)
    assert.ok(line !== undefined)
    assert.match(JSON.stringify(line), /internal detail 7f3a/)
  })

  async function pressData (m: StoredMessage, data: string): Promise<Record<string, unknown>> {
    const id = `fq${nextQuery++}`
    const res = await bot.post({
      update_id: nextUpdate++,
      callback_query: {
        id,
        from: { id: m.chat_id, is_bot: false, first_name: 'Ann' },
        chat_instance: 'ci',
        data,
        message: { message_id: m.message_id, date: m.date, chat: { id: m.chat_id, type: 'private', first_name: 'Ann' }, text: m.text }
      }
    })
    assert.equal(res.status, 200)
    let answered: Record<string, unknown> | undefined
    await until(() => { answered = bot.fake.callsOf('answerCallbackQuery').find((c) => c.params['callback_query_id'] === id)?.params; return answered !== undefined }, `the answer to ${data}`)
    return answered as Record<string, unknown>
  }
})

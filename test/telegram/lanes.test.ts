import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { randomUUID } from 'node:crypto'
import { waitFor } from '../helper.ts'
import type { StoredMessage } from '../fakes/bot-api/server.ts'
import { cleanups, startBot, until, type BotHarness } from './helpers.ts'

const cancelData = (m: StoredMessage): string => (m.reply_markup as { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }).inline_keyboard[0]?.[0]?.callback_data ?? ''
const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

describe('Telegram chat lanes: queue, Cancel, /stop, abort words', () => {
  let bot: BotHarness
  const record = join(tmpdir(), `ductor-tg-record-${randomUUID()}.json`)
  const cleanup = cleanups()
  after(cleanup.run)
  before(async () => {
    bot = await startBot(cleanup, { env: { FAKE_CLI_RECORD: record } })
  })

  test('a message sent while a run is active is queued with a Cancel button; Cancel skips it; /stop kills the run and discards the rest', async () => {
    const chat = 111
    await bot.say('work forever [[hang]]', { chatId: chat, from: chat })
    await until(() => bot.app.orchestrator.isBusy(String(chat)), 'the first run to start')
    const { pid } = await waitFor(async () => {
      const r = await readFile(record, 'utf8').then((t) => JSON.parse(t) as { pid: number, argv: string[] }).catch(() => undefined)
      return r !== undefined && r.argv.join(' ').includes('work forever') ? r : undefined
    }, 10_000, 'the fake CLI to record its pid')
    assert.ok(alive(pid))

    const second = await bot.say('second [[reply:two]]', { chatId: chat, from: chat })
    await bot.say('third [[reply:three]]', { chatId: chat, from: chat })
    const [q2, q3] = await waitFor(() => {
      const queued = bot.messages(chat).filter((m) => m.text.startsWith('⏳ Queued'))
      return queued.length === 2 ? queued : undefined
    }, 10_000, 'two queued indicators')
    assert.ok(q2 !== undefined && q3 !== undefined)
    // Their updates stay unfinished in the inbox until their runs start: a crash now replays them.
    assert.ok(bot.app.inbox.inFlight() >= 2, `queued updates still in flight: ${bot.app.inbox.inFlight()}`)
    assert.equal(q2.text, '⏳ Queued: I will answer this after the current reply.')
    assert.match(q3.text, /Queued \(#2\)/)
    assert.equal(q2.reply_markup !== undefined, true)
    const replyTo = bot.fake.callsOf('sendMessage').find((c) => String(c.params.text).startsWith('⏳') && c.params.reply_parameters !== undefined)
    assert.equal((replyTo?.params.reply_parameters as { message_id: number }).message_id, (second.message as { message_id: number }).message_id)

    await bot.press(q2, cancelData(q2))
    await bot.waitMessage((m) => m.message_id === q2.message_id && m.text === '✖️ Cancelled.', 'the cancelled indicator', chat)
    assert.equal(bot.app.orchestrator.lanes.queueDepth(String(chat)), 1)

    await bot.say('/stop', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.message_id === q3.message_id && /Discarded/.test(m.text), 'the discarded indicator', chat)
    await until(() => !alive(pid), 'the fake CLI to be killed')
    await until(() => !bot.app.orchestrator.isBusy(String(chat)), 'the lane to be idle')
    await bot.waitMessage((m) => m.text === 'Stopped.', 'the stop confirmation', chat)
    assert.ok(!bot.texts(chat).includes('two') && !bot.texts(chat).includes('three'), 'cancelled and discarded messages never ran')
    const cancelledAnswer = bot.fake.callsOf('answerCallbackQuery').at(-1)
    assert.equal(cancelledAnswer?.params.text, 'Cancelled.')
  })

  test('a Queued note a previous life left behind goes when its Cancel is pressed: "Too late", and the note is deleted', async () => {
    const chat = 116
    // As a crash leaves it: the note is in the chat, its lane entry is gone (the message was replayed without it).
    const api = bot.app.telegram?.telegram.bot.api
    assert.ok(api !== undefined)
    const sent = await api.sendMessage(chat, '⏳ Queued: I will answer this after the current reply.', { reply_markup: { inline_keyboard: [[{ text: 'Cancel', callback_data: 'q:cancel:entry-of-a-previous-life' }]] } })
    const note = await bot.waitMessage((m) => m.message_id === sent.message_id, 'the stale note', chat)
    await bot.press(note, 'q:cancel:entry-of-a-previous-life')
    await until(() => bot.fake.allMessages(chat).some((m) => m.message_id === sent.message_id && m.deleted), 'the note deleted')
    const answer = bot.fake.callsOf('answerCallbackQuery').at(-1)
    assert.equal(answer?.params.text, 'Too late: it already started or was dropped.')
  })

  test('a queued indicator is removed when its message starts', async () => {
    const chat = 112
    await bot.say('slow [[reply:first done]] [[delay:60]]', { chatId: chat, from: chat })
    await until(() => bot.app.orchestrator.isBusy(String(chat)), 'the first run to start')
    await bot.say('then this [[reply:second done]]', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'second done', 'the second reply', chat)
    assert.deepEqual(bot.texts(chat), ['first done', 'second done'], 'the indicator is gone')
    assert.ok(bot.fake.allMessages(chat).some((m) => m.deleted && m.text.startsWith('⏳ Queued')))
  })

  test('a bare abort word stops the running reply', async () => {
    const chat = 113
    await bot.say('long job [[hang]]', { chatId: chat, from: chat })
    await until(() => bot.app.orchestrator.isBusy(String(chat)), 'the run to start')
    await bot.say('Stop!', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'Stopped.', 'the stop confirmation', chat)
    await until(() => !bot.app.orchestrator.isBusy(String(chat)), 'the lane to be idle')
    assert.deepEqual(bot.texts(chat), ['Stopped.'], 'one "Stopped." and nothing else')
  })

  test('the Python version\'s stop words (exit, interrupt, warte, abbruch…) stop a run; while idle a bare one is not sent to the agent', async () => {
    const chat = 114
    for (const word of ['exit', 'Interrupt', 'warte', 'Abbruch!']) {
      await bot.say(`long job [[hang]] ${word}`, { chatId: chat, from: chat })
      await until(() => bot.app.orchestrator.isBusy(String(chat)), `the run to start (${word})`)
      await bot.say(word, { chatId: chat, from: chat })
      await until(() => !bot.app.orchestrator.isBusy(String(chat)), `"${word}" to stop the run`)
    }
    const runsBefore = bot.app.stores.runs.list({ limit: 100 }).filter((r) => r.chat_id === String(chat)).length
    await bot.say('stop', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'Nothing is running.', 'the idle answer', chat)
    const runsAfter = bot.app.stores.runs.list({ limit: 100 }).filter((r) => r.chat_id === String(chat)).length
    assert.equal(runsAfter, runsBefore, 'no run for a bare stop word')
  })
})

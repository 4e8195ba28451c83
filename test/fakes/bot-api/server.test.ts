import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Api, Bot, GrammyError, HttpError, InputFile } from 'grammy'
import { createFakeBotApi } from './server.ts'
import type { FakeBotApi, FakeBotApiOptions } from './server.ts'
import { createVirtualClock } from './virtual-clock.ts'
import { telegramLikeLimits } from './rate-limit.ts'

const chat = 42

async function start (t: { after: (fn: () => Promise<void>) => void }, options: FakeBotApiOptions = {}): Promise<{ fake: FakeBotApi, api: Api }> {
  const fake = createFakeBotApi({ rateLimits: false, ...options })
  await fake.start()
  t.after(() => fake.close())
  return { fake, api: new Api(fake.token, { apiRoot: fake.apiRoot }) }
}

async function apiError (p: Promise<unknown>): Promise<GrammyError> {
  try {
    await p
  } catch (err) {
    if (err instanceof GrammyError) return err
    throw err
  }
  assert.fail('expected the call to fail')
}

test('answers like Telegram: getMe, 401 for a wrong token, 404 for an unknown method', async (t) => {
  const { fake, api } = await start(t)
  const me = await api.getMe()
  assert.equal(me.is_bot, true)
  assert.equal(me.username, 'ductor_test_bot')
  const wrong = new Api('999:wrong', { apiRoot: fake.apiRoot })
  const e = await apiError(wrong.getMe())
  assert.equal(e.error_code, 401)
  assert.equal(e.description, 'Unauthorized')
  const res = await fetch(`${fake.apiRoot}/bot${fake.token}/noSuchMethod`, { method: 'POST' })
  assert.equal(res.status, 404)
  assert.deepEqual(await res.json(), { ok: false, error_code: 404, description: 'Not Found' })
})

test('sendMessage and editMessageText keep the visible text; Telegram\'s errors are exact', async (t) => {
  const { fake, api } = await start(t)
  const m = await api.sendMessage(chat, '<b>Hello</b> &amp; bye', { parse_mode: 'HTML' })
  assert.equal(m.text, 'Hello & bye')
  assert.deepEqual(m.entities, [{ type: 'bold', offset: 0, length: 5 }])
  await api.editMessageText(chat, m.message_id, '<i>Edited</i>', { parse_mode: 'HTML' })
  assert.deepEqual(fake.messages(chat).map((x) => x.text), ['Edited'])

  const same = await apiError(api.editMessageText(chat, m.message_id, '<i>Edited</i>', { parse_mode: 'HTML' }))
  assert.equal(same.error_code, 400)
  assert.equal(same.description, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message')
  const missing = await apiError(api.editMessageText(chat, 999, 'x'))
  assert.equal(missing.description, 'Bad Request: message to edit not found')
  const bad = await apiError(api.sendMessage(chat, 'hi <foo>', { parse_mode: 'HTML' }))
  assert.equal(bad.description, 'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 3')
  const long = await apiError(api.sendMessage(chat, 'x'.repeat(4097)))
  assert.equal(long.description, 'Bad Request: message is too long')
  await api.sendMessage(chat, '&lt;'.repeat(4096), { parse_mode: 'HTML' })
  const empty = await apiError(api.sendMessage(chat, '<b> </b>', { parse_mode: 'HTML' }))
  assert.equal(empty.description, 'Bad Request: message text is empty')

  await api.deleteMessage(chat, m.message_id)
  const gone = await apiError(api.deleteMessage(chat, m.message_id))
  assert.equal(gone.description, 'Bad Request: message to delete not found')
  assert.equal(fake.messages(chat).length, 1)
  assert.deepEqual(fake.callsOf('sendMessage').map((c) => c.ok), [true, false, false, true, false])
})

test('inline keyboards: stored, editable, and "not modified" when unchanged', async (t) => {
  const { fake, api } = await start(t)
  const markup = { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] }
  const m = await api.sendMessage(chat, 'Pick', { reply_markup: markup })
  assert.deepEqual(fake.messages(chat)[0]?.reply_markup, markup)
  const e = await apiError(api.editMessageReplyMarkup(chat, m.message_id, { reply_markup: markup }))
  assert.match(e.description, /message is not modified/)
  await api.editMessageReplyMarkup(chat, m.message_id, { reply_markup: { inline_keyboard: [] } })
  const tooLong = await apiError(api.sendMessage(chat, 'x', { reply_markup: { inline_keyboard: [[{ text: 'a', callback_data: 'é'.repeat(33) }]] } }))
  assert.equal(tooLong.description, 'Bad Request: BUTTON_DATA_INVALID')
  // Editing the text without reply_markup removes the keyboard, as Telegram does.
  const k = await api.sendMessage(chat, 'Keyboard', { reply_markup: markup })
  await api.editMessageText(chat, k.message_id, 'Keyboard gone')
  assert.equal(fake.messages(chat).find((x) => x.message_id === k.message_id)?.reply_markup, undefined)
  assert.equal(await api.answerCallbackQuery('cb-1', { text: 'ok' }), true)
})

test('per-chat rate limits answer 429 with retry_after, and recover with time', async (t) => {
  const clock = createVirtualClock()
  const { fake, api } = await start(t, { now: clock.now, rateLimits: { private: { capacity: 2, perSecond: 1 }, group: { capacity: 3, perSecond: 20 / 60 }, drafts: null } })
  await api.sendMessage(chat, 'one')
  await api.sendMessage(chat, 'two')
  const e = await apiError(api.sendMessage(chat, 'three'))
  assert.equal(e.error_code, 429)
  assert.equal(e.description, 'Too Many Requests: retry after 1')
  assert.deepEqual(e.parameters, { retry_after: 1 })
  await api.sendMessage(7, 'another chat is not limited')
  clock.advance(1000)
  await api.sendMessage(chat, 'three')

  for (let i = 0; i < 3; i++) await api.sendMessage(-100, `group ${i}`)
  const g = await apiError(api.sendMessage(-100, 'too many'))
  assert.equal(g.parameters.retry_after, 3)
  assert.equal(fake.messages(chat).length, 3)
})

test('Telegram-like limits (Bot API FAQ): a burst in a private chat and the 21st message a minute in a group get 429', async (t) => {
  const clock = createVirtualClock()
  const { api } = await start(t, { now: clock.now, rateLimits: telegramLikeLimits })
  for (let i = 0; i < 3; i++) await api.sendMessage(chat, `part ${i}`)
  assert.equal((await apiError(api.sendMessage(chat, 'part 3'))).error_code, 429, 'a fourth message in the same second')
  clock.advance(1000)
  await api.sendMessage(chat, 'one a second passes')
  const group = -100777
  for (let i = 0; i < 20; i++) {
    await api.sendMessage(group, `group ${i}`)
    clock.advance(1000)
  }
  const e = await apiError(api.sendMessage(group, 'the 21st within a minute'))
  assert.equal(e.error_code, 429)
  assert.equal(e.parameters.retry_after, 40, 'until the first of the 20 is a minute old')
  clock.advance(40_000)
  await api.sendMessage(group, 'a minute after the first')
})

test('fault injection: 429, 500, 502 pages, dropped connections, delays', async (t) => {
  const { fake, api } = await start(t)
  fake.fail('sendMessage', { status: 429, retryAfter: 7 })
  fake.fail('sendMessage', { status: 500 })
  fake.fail('editMessageText', { status: 502 })
  fake.fail('getMe', { status: 'drop' })
  fake.fail('sendChatAction', { status: 'delay', ms: 30 })
  const limited = await apiError(api.sendMessage(chat, 'a'))
  assert.equal(limited.parameters.retry_after, 7)
  const internal = await apiError(api.sendMessage(chat, 'a'))
  assert.equal(internal.error_code, 500)
  const m = await api.sendMessage(chat, 'third time lucky')
  await assert.rejects(api.editMessageText(chat, m.message_id, 'x'), HttpError, 'grammY cannot read the gateway page')
  await assert.rejects(api.getMe(), HttpError)
  const before = Date.now()
  assert.equal(await api.sendChatAction(chat, 'typing'), true)
  assert.ok(Date.now() - before >= 25)
  await api.editMessageText(chat, m.message_id, 'works again')
  assert.deepEqual(fake.messages(chat).map((x) => x.text), ['works again'])
})

test('multipart uploads are recorded, and files can be fetched with getFile', async (t) => {
  const { fake, api } = await start(t)
  await api.sendDocument(chat, new InputFile(Buffer.from('report body'), 'report.txt'), { caption: '<b>Report</b>', parse_mode: 'HTML' })
  await api.sendPhoto(chat, new InputFile(Buffer.from([0xff, 0xd8, 0xff]), 'chart.jpg'))
  const [doc, photo] = fake.messages(chat)
  assert.equal(doc?.kind, 'document')
  assert.equal(doc?.text, 'Report')
  assert.equal(doc?.file?.file_name, 'report.txt')
  assert.equal(photo?.kind, 'photo')
  const call = fake.callsOf('sendDocument')[0]
  assert.equal(call?.params.caption, '<b>Report</b>')
  assert.deepEqual(call?.files.map((f) => [f.filename, f.size]), [['report.txt', 11]])

  const id = fake.addFile('voice bytes', { filePath: 'voice/file_1.oga' })
  const file = await api.getFile(id)
  assert.equal(file.file_path, 'voice/file_1.oga')
  const res = await fetch(`${fake.apiRoot}/file/bot${fake.token}/${file.file_path ?? ''}`)
  assert.equal(await res.text(), 'voice bytes')
  const big = fake.addFile('x', { fileSize: 25 * 1024 * 1024 })
  assert.equal((await apiError(api.getFile(big))).description, 'Bad Request: file is too big')
})

test('webhook set, inspected and deleted; getUpdates refused while a webhook is set', async (t) => {
  const { fake, api } = await start(t)
  const bad = await apiError(api.setWebhook('http://insecure.example/hook'))
  assert.match(bad.description, /HTTPS URL must be provided/)
  assert.equal(await api.setWebhook('https://bot.example/telegram/webhook', { secret_token: 's3cret', allowed_updates: ['message'] }), true)
  assert.deepEqual(fake.webhook(), { url: 'https://bot.example/telegram/webhook', secret_token: 's3cret', allowed_updates: ['message'] })
  assert.equal((await api.getWebhookInfo()).url, 'https://bot.example/telegram/webhook')
  const conflict = await apiError(api.getUpdates({ timeout: 0 }))
  assert.equal(conflict.error_code, 409)
  await api.deleteWebhook()
  assert.equal((await api.getWebhookInfo()).url, '')
  assert.equal(await api.setMyCommands([{ command: 'new', description: 'Start a new session' }]), true)
  assert.deepEqual(fake.commands(), [{ command: 'new', description: 'Start a new session' }])
})

test('a real grammY bot long-polls updates the test pushes and answers them', async (t) => {
  const { fake } = await start(t, { maxPollMs: 200 })
  const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } })
  bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`))
  const stopped = bot.start({ timeout: 1 })
  fake.pushUpdate({ message: { message_id: 1, date: 0, chat: { id: chat, type: 'private', first_name: 'U' }, from: { id: chat, is_bot: false, first_name: 'U' }, text: 'ping' } })
  for (let i = 0; i < 200 && fake.messages(chat).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  await bot.stop()
  await stopped
  assert.deepEqual(fake.messages(chat).map((m) => m.text), ['echo: ping'])
})

test('sendMessageDraft: private chats only, replaced by the next real message', async (t) => {
  const { fake, api } = await start(t)
  assert.equal(await api.sendMessageDraft(chat, 5, '<b>Thinking</b> about it', { parse_mode: 'HTML' }), true)
  assert.deepEqual(fake.draft(chat), { draft_id: 5, text: 'Thinking about it', entities: [{ type: 'bold', offset: 0, length: 8 }] })
  const group = await apiError(api.sendMessageDraft(-100, 5, 'x'))
  assert.equal(group.error_code, 400)
  const zero = await apiError(api.sendMessageDraft(chat, 0, 'x'))
  assert.equal(zero.error_code, 400)
  await api.sendMessage(chat, 'final')
  assert.equal(fake.draft(chat), undefined)
})

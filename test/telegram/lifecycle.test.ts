import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createJournal } from '../../src/store/journal.ts'
import { startBot, until, USER } from './helpers.ts'

test('polling mode: no webhook, updates from getUpdates go through the same inbox and dedupe', async (t) => {
  const bot = await startBot(t, { mode: 'polling' })
  assert.equal(bot.fake.webhook(), null)
  assert.ok(bot.fake.callsOf('deleteWebhook').length === 1)
  const refused = await bot.post({ update_id: 1 })
  assert.equal(refused.status, 404, 'no webhook route in polling mode')

  const update = {
    update_id: 500,
    message: { message_id: 1, date: 0, chat: { id: 111, type: 'private', first_name: 'Ann' }, from: { id: 111, is_bot: false, first_name: 'Ann' }, text: 'polled? [[reply:polled!]]' }
  }
  bot.fake.pushUpdate(update)
  bot.fake.pushUpdate(update)
  await bot.waitMessage((m) => m.text === 'polled!', 'the reply to a polled update')
  await bot.say('again [[reply:second]]')
  await bot.waitMessage((m) => m.text === 'second', 'the next reply')
  assert.deepEqual(bot.texts(), ['polled!', 'second'], 'the duplicate was answered once')
  await until(() => bot.app.inbox.inFlight() === 0, 'the inbox to settle')
})

test('a token Telegram refuses is logged plainly and the rest of the service keeps running', async (t) => {
  const bot = await startBot(t, { mode: 'polling', config: { telegram_token: '999:wrong-token' } })
  assert.ok(bot.logs.some((l) => l.includes('Telegram does not know this bot token')), 'a clear log line')
  assert.ok(!bot.logs.some((l) => l.includes('wrong-token')), 'the token itself is not logged')
  const health = await fetch(`${bot.url}/health`)
  assert.equal(health.status, 200)
})

test('webhook mode without an https public_url: Telegram refuses the webhook, the log says why, once', async (t) => {
  const bot = await startBot(t, { mode: 'webhook', config: { server: { host: '127.0.0.1', port: 0, public_url: 'http://plain.example.test' } } })
  assert.ok(bot.logs.some((l) => l.includes('server.public_url is not an https:// URL')))
  assert.equal(bot.logs.filter((l) => l.includes('setWebhook was refused by Telegram')).length, 1)
  assert.equal(bot.fake.webhook(), null)
})

test('an update accepted while the bot cannot reach Telegram is kept for the next start, not dropped', async (t) => {
  const bot = await startBot(t, { config: { telegram_token: '999:wrong-token' } })
  const update = { update_id: 4242, message: { message_id: 1, date: 0, chat: { id: USER, type: 'private' }, from: { id: USER, is_bot: false, first_name: 'A' }, text: 'are you there?' } }
  assert.equal((await bot.post(update)).status, 200)
  await bot.app.close()
  const journal = await createJournal({ path: join(bot.paths.state, 'inbox.jsonl') })
  t.after(async () => { await journal.close() })
  assert.deepEqual(journal.pending().map((e) => e.key), ['4242'])
})

test('a message\'s update is marked done in the journal file before its CLI starts, so a crash right after cannot run it twice', async (t) => {
  const bot = await startBot(t)
  // The fake CLI reads the journal file the moment it starts: what would a `kill -9` then leave?
  await bot.say('run me once [[reply-journal:run-me-once]]')
  await bot.waitMessage((m) => m.text === 'journal run-me-once 1/1', 'the reply: its entry was marked when the CLI started')
})

test('every update of an album is marked done in the journal file before the album\'s CLI starts, so a crash right after cannot replay part of it', async (t) => {
  const bot = await startBot(t)
  const photo = (id: string): unknown => [{ file_id: id, file_unique_id: `u-${id}`, width: 1, height: 1, file_size: 3 }]
  const a = bot.fake.addFile('one', { filePath: 'photos/lc_a.jpg' })
  const b = bot.fake.addFile('two', { filePath: 'photos/lc_b.jpg' })
  const c = bot.fake.addFile('three', { filePath: 'photos/lc_c.jpg' })
  await bot.say('', { extra: { text: undefined, media_group_id: 'album-lc', caption: 'three at once [[reply-journal:album-lc]]', photo: photo(a) } })
  await bot.say('', { extra: { text: undefined, media_group_id: 'album-lc', photo: photo(b) } })
  await bot.say('', { extra: { text: undefined, media_group_id: 'album-lc', photo: photo(c) } })
  await bot.waitMessage((m) => m.text === 'journal album-lc 3/3', 'the album\'s reply: all three marked when its CLI started')
})

test('a final reply Telegram keeps refusing ends with the service\'s close, not minutes later: its retries do not outlive the adapter', async (t) => {
  const bot = await startBot(t)
  bot.fake.fail('*', { status: 502 }, 100_000)
  await bot.say('hello [[reply:never shown]]')
  // The final reply's first attempts failed; it backs off (up to 30 s, 8 tries) and would retry after the close.
  await until(() => bot.fake.callsOf('sendMessage').length >= 2, 'failed attempts at the reply')
  await bot.app.close()
  assert.ok(bot.logs.some((l) => l.includes('the final reply could not be delivered')), 'the stream ended with the close, and said so')
  // Each line names its chat once: a key written twice is refused or half-read by strict JSON tools.
  const chatLines = bot.logs.filter((l) => l.includes('"chatId":'))
  assert.ok(chatLines.some((l) => l.includes('telegram write failed')), 'the failed writes are logged with their chat')
  for (const line of chatLines) assert.equal(line.split('"chatId":').length - 1, 1, `one chatId key in ${line}`)
})

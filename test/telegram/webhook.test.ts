import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { writeRestartMarker, writeUpgradeMarker } from '../../src/ops/upgrade-notice.ts'
import { createJournal } from '../../src/store/journal.ts'
import { ADMIN_TOKEN } from '../helper.ts'
import { cleanups, scriptMarker, startBot, until, SECRET, STRANGER, GROUP, type BotHarness } from './helpers.ts'

/** One service in webhook mode for the whole file; each test talks in its own chat. */
describe('Telegram adapter in webhook mode', () => {
  let bot: BotHarness
  const cleanup = cleanups()
  after(cleanup.run)
  before(async () => {
    bot = await startBot(cleanup, {
      prepare: async (paths) => {
        await writeUpgradeMarker(paths.state, { from: '0.0.1', to: '0.0.0-test', chat_id: 119, requested_at: new Date().toISOString() })
        await writeRestartMarker(paths.state, { chat_id: 117, requested_at: new Date().toISOString() })
        // An update the last process accepted (and acknowledged) but did not get to.
        const journal = await createJournal({ path: join(paths.state, 'inbox.jsonl') })
        await journal.append({ kind: 'telegram', key: '90000', payload: { update_id: 90000, message: { message_id: 5, date: Math.floor(Date.now() / 1000), chat: { id: 116, type: 'private' }, from: { id: 116, is_bot: false, first_name: 'Ann' }, text: 'before the crash [[reply:replayed]]' } } })
        await journal.close()
      }
    })
  })

  test('setWebhook gets the public URL, the secret and the allowed updates; the menu lists every command', () => {
    assert.deepEqual(bot.fake.webhook(), { url: 'https://bot.example.test/telegram/webhook', secret_token: SECRET, allowed_updates: ['message', 'callback_query'] })
    const commands = (bot.fake.commands() as Array<{ command: string }>).map((c) => c.command)
    assert.deepEqual(commands, ['start', 'help', 'new', 'stop', 'status', 'model', 'memory', 'cron', 'skills', 'permissions', 'showfiles', 'diagnose', 'info', 'restart', 'upgrade'])
  })

  test('after an upgrade and restart, the chat that asked is told the new version', async () => {
    const notice = await bot.waitMessage((m) => /upgraded from 0\.0\.1 to 0\.0\.0-test/.test(m.text), 'the upgrade notice', 119)
    assert.equal(notice.chat_id, 119)
  })

  test('after /restart the chat that asked is told "Restart completed", once', async () => {
    await bot.waitMessage((m) => /^✅ Restart completed\. ductor 0\.0\.0-test is running\./.test(m.text), 'the restart confirmation', 117)
    await assert.rejects(readFile(join(bot.paths.state, 'restart.json'), 'utf8'), 'the marker is used up')
  })

  test('an update accepted before a crash is processed after the restart', async () => {
    await bot.waitMessage((m) => m.text === 'replayed', 'the answer to the replayed update', 116)
  })

  test('a missing or wrong secret gets 401 JSON and the update is not processed', async () => {
    const update = { update_id: 1, message: { message_id: 1, date: 0, chat: { id: 111, type: 'private' }, from: { id: 111, is_bot: false, first_name: 'A' }, text: 'sneaky [[reply:leaked]]' } }
    const missing = await bot.post(update, null)
    assert.equal(missing.status, 401)
    assert.equal(missing.body.error, 'unauthorized')
    const wrong = await bot.post(update, `${SECRET}x`)
    assert.equal(wrong.status, 401)
    assert.equal(typeof wrong.body.message, 'string')
    await bot.say('hello [[reply:pong]]', { chatId: 111, from: 111 })
    await bot.waitMessage((m) => m.text === 'pong', 'the reply to the authenticated update', 111)
    assert.deepEqual(bot.texts(111), ['pong'], 'the refused update was never processed')
  })

  test('a streamed reply arrives complete, as valid HTML, with typing shown', async () => {
    const config = bot.app.settings.config()
    bot.app.settings.applyConfig({ ...config, streaming: { ...config.streaming, enabled: true } })
    const long = 'This is **bold** and `code`. '.repeat(12).trim()
    await bot.say(`stream please [[reply:${long}]] [[delay:30]]`, { chatId: 112, from: 112 })
    const done = await bot.waitMessage((m) => m.text === long.replace(/\*\*|`/g, ''), 'the final reply', 112)
    assert.equal(done.parse_mode, 'HTML')
    assert.ok(done.entities.some((e) => e.type === 'bold'))
    assert.ok(done.entities.some((e) => e.type === 'code'))
    assert.equal(bot.messages(112).length, 1, 'one message holds the reply')
    assert.ok(bot.fake.callsOf('sendChatAction').some((c) => Number(c.params.chat_id) === 112), 'typing was shown')
    const live = bot.fake.callsOf('sendMessageDraft').filter((c) => Number(c.params.chat_id) === 112)
    assert.ok(live.length > 0, 'the reply streamed live before the final message')
    bot.app.settings.applyConfig(config)
  })

  test('tool use shows as a live status line; the final message holds exactly the reply', async () => {
    const config = bot.app.settings.config()
    bot.app.settings.applyConfig({ ...config, streaming: { ...config.streaming, enabled: true } })
    const script = await scriptMarker(bot.home, [{ text: 'Let me look.' }, { tool: 'Bash', input: { command: 'ls' } }, { tool: 'Bash', input: { command: 'wc -l x' } }, { pause: 25 }, { text: 'Found 3 files.' }], 'Let me look. Found **3** files.')
    await bot.say(`count files ${script} [[delay:40]]`, { chatId: 115, from: 115 })
    const done = await bot.waitMessage((m) => m.text === 'Let me look. Found 3 files.', 'the final reply', 115)
    assert.ok(done.entities.some((e) => e.type === 'bold'))
    const live = bot.fake.calls.filter((c) => Number(c.params.chat_id) === 115 && /sendMessageDraft|editMessageText|sendMessage/i.test(c.method)).map((c) => String(c.params.text))
    assert.ok(live.some((text) => text.includes('[TOOL: Bash] x2')), `the tool indicator was shown live: ${JSON.stringify(live)}`)
    assert.deepEqual(bot.texts(115), ['Let me look. Found 3 files.'], 'no status line in the final message')
    bot.app.settings.applyConfig(config)
  })

  test('a duplicate update_id is acknowledged and ignored', async () => {
    const update = await bot.say('once [[reply:only once]]', { chatId: 113, from: 113 })
    const again = await bot.post(update)
    assert.equal(again.status, 200)
    assert.equal(again.body.duplicate, true)
    await bot.waitMessage((m) => m.text === 'only once', 'the reply', 113)
    await bot.say('next [[reply:second]]', { chatId: 113, from: 113 })
    await bot.waitMessage((m) => m.text === 'second', 'the next reply', 113)
    assert.deepEqual(bot.texts(113), ['only once', 'second'])
  })

  test('only allowed users are answered', async () => {
    await bot.say('let me in [[reply:nope]]', { chatId: STRANGER, from: STRANGER })
    await bot.say('who is this [[reply:nope]]', { chatId: 114, from: STRANGER })
    await bot.say('me [[reply:yes]]', { chatId: 114, from: 114 })
    await bot.waitMessage((m) => m.text === 'yes', 'the allowed user\'s reply', 114)
    assert.deepEqual(bot.texts(114), ['yes'])
    assert.deepEqual(bot.texts(STRANGER), [])
  })

  test('in a group (as in the Python version): every text of an allowed user, mention stripped; media only when addressed; group_mode "addressed" answers only what addresses the bot', async () => {
    const fromBot = { message_id: 1, date: 0, chat: { id: GROUP, type: 'supergroup' }, from: { id: 123456, is_bot: true, first_name: 'Ductor Test', username: 'ductor_test_bot' }, text: 'earlier answer' }
    const photoId = bot.fake.addFile(Buffer.from('png'), { filePath: 'photos/group.png' })
    const photo = [{ file_id: photoId, file_unique_id: 'ug', width: 1, height: 1, file_size: 3 }]
    await bot.say('just chatting [[reply:unaddressed]]', { chatId: GROUP, from: 115 })
    await bot.waitMessage((m) => m.text === 'unaddressed', 'the answer to a plain text', GROUP)
    await bot.say('', { chatId: GROUP, from: 115, extra: { text: undefined, caption: 'a photo for the group [[reply:photo seen]]', photo } })
    await bot.say('/status@some_other_bot', { chatId: GROUP, from: 115 })
    await bot.say('@ductor_test_bot hi [[reply:stranger]]', { chatId: GROUP, from: STRANGER })
    await bot.say('@ductor_test_bot what is [[reply:mentioned]]', { chatId: GROUP, from: 115 })
    await bot.waitMessage((m) => m.text === 'mentioned', 'the answer to the mention', GROUP)
    await bot.say('', { chatId: GROUP, from: 115, replyTo: fromBot, extra: { text: undefined, caption: 'this one [[reply:addressed photo]]', photo } })
    await bot.waitMessage((m) => m.text === 'addressed photo', 'the answer to a photo sent as a reply to the bot', GROUP)
    await bot.app.settings.updateConfig({ telegram: { group_mode: 'addressed' } })
    try {
      await bot.say('chatting again [[reply:should not]]', { chatId: GROUP, from: 115 })
      await bot.say('and then? [[reply:replied]]', { chatId: GROUP, from: 115, replyTo: fromBot })
      await bot.waitMessage((m) => m.text === 'replied', 'the answer to a reply to the bot', GROUP)
    } finally {
      await bot.app.settings.updateConfig({ telegram: { group_mode: 'all' } })
    }
    assert.deepEqual(bot.texts(GROUP), ['unaddressed', 'mentioned', 'addressed photo', 'replied'])
  })

  test('a forum topic is answered in its own thread', async () => {
    const forum = GROUP - 1
    await bot.say('@ductor_test_bot topic question [[reply:in the topic]]', { chatId: forum, from: 116, threadId: 77 })
    const answer = await bot.waitMessage((m) => m.text === 'in the topic', 'the answer', forum)
    assert.equal(answer.message_thread_id, 77)
    assert.ok(bot.fake.callsOf('sendChatAction').some((c) => Number(c.params.chat_id) === forum && Number(c.params.message_thread_id) === 77), 'typing in the topic')
  })

  test('malformed updates never take the service down', async () => {
    const notJson = await bot.post('{"update_id": 7, "message": ')
    assert.equal(notJson.status, 400)
    const noId = await bot.post({ message: { text: 'x' } })
    assert.equal(noId.status, 400)
    assert.match(String(noId.body.message), /update_id/)
    const weird = [
      { update_id: 20, message: { text: 'no chat', from: { id: 117 } } },
      { update_id: 21, message: { chat: { id: 117, type: 'private' }, from: { id: 117 }, text: 42 } },
      { update_id: 22, message: { chat: { id: 117, type: 'private' }, from: { id: 117 }, photo: 'not an array' } },
      { update_id: 23, callback_query: { id: 'q', from: { id: 117 }, data: 'x' } },
      { update_id: 24, edited_message: { chat: { id: 117, type: 'private' }, from: { id: 117 }, text: 'edited' } },
      { update_id: 25, message: { message_id: 9, chat: { id: 117, type: 'private' }, from: { id: 117 }, document: { file_id: 'missing' } } },
      { update_id: 26, something_new: { a: 1 } },
      { update_id: 27, message: null }
    ]
    for (const u of weird) assert.equal((await bot.post(u)).status, 200)
    await bot.say('still there? [[reply:yes, still here]]', { chatId: 117, from: 117 })
    await bot.waitMessage((m) => m.text === 'yes, still here', 'a reply after the malformed updates', 117)
    await until(() => bot.app.inbox.inFlight() === 0, 'the inbox to settle')
  })

  test('/start greets with quick actions, /help lists the commands, /status comes from the core', async () => {
    await bot.say('/start', { chatId: 118, from: 118 })
    const welcome = await bot.waitMessage((m) => m.text.startsWith('Hi Ann'), 'the welcome', 118)
    const buttons = (welcome.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard.flat().map((b) => b.callback_data)
    // The three quick-start prompts (as the Python version has them), then the commands.
    assert.deepEqual(buttons, ['w:1', 'w:2', 'w:3', '/status', '/memory', '/new', '/help'])
    await bot.say('/help', { chatId: 118, from: 118 })
    const help = await bot.waitMessage((m) => m.text.startsWith('Commands'), 'the help', 118)
    assert.match(help.text, /\/showfiles — /)
    await bot.say('/status', { chatId: 118, from: 118 })
    await bot.waitMessage((m) => /No session yet/.test(m.text), 'the status', 118)
  })

  test('a command reply Telegram refuses as HTML arrives as plain text; a 429 is waited out', async () => {
    bot.fake.fail('sendMessage', { status: 400, description: 'Bad Request: can\'t parse entities: unsupported start tag "x" at byte offset 0' })
    await bot.say('/memory', { chatId: 118, from: 118 })
    const plain = await bot.waitMessage((m) => /memory/i.test(m.text) && m.parse_mode === undefined, 'the plain-text reply', 118)
    assert.equal(plain.entities.length, 0)
    bot.fake.fail('sendMessage', { status: 429, retryAfter: 1 })
    await bot.say('/status', { chatId: 118, from: 118 })
    await until(() => bot.messages(118).filter((m) => /No session yet/.test(m.text)).length === 2, 'the status after the 429')
  })

  test('/restart asks for a restart after saying so', async () => {
    await bot.say('/restart', { chatId: 120, from: 120 })
    await bot.waitMessage((m) => /Restarting/.test(m.text), 'the restart notice', 120)
    await until(() => bot.restarts === 1, 'the restart request')
    assert.equal((JSON.parse(await readFile(join(bot.paths.state, 'restart.json'), 'utf8')) as { chat_id: number }).chat_id, 120, 'the next process will confirm in this chat')
  })

  test('/restart is refused, with what to do instead, when nothing would start the service again (no supervisor)', async () => {
    const before = bot.restarts
    bot.restartable = false
    try {
      await bot.say('/restart', { chatId: 116, from: 116 })
      const refusal = await bot.waitMessage((m) => /Not restarting/.test(m.text), 'the refusal', 116)
      assert.match(refusal.text, /ductor restart/)
      assert.ok(!bot.texts(116).some((text) => /Restarting…/.test(text)), 'no promise to be back')
      assert.equal(bot.restarts, before, 'the service was not asked to stop')
    } finally {
      bot.restartable = true
    }
  })

  test('automation results reach the chat, titled with the job', async () => {
    const sink = bot.app.orchestrator.defaultSink('119')
    assert.ok(sink !== null)
    sink.emit({ type: 'delivery', source: 'cron', ref: 'daily', title: 'Daily digest', text: 'Three **new** things.', status: 'success', runId: 'r1' })
    const m = await bot.waitMessage((x) => x.text.includes('Three new things.'), 'the delivery', 119)
    assert.match(m.text, /Daily digest/)
    assert.equal(bot.app.orchestrator.defaultSink('cli-chat'), null, 'non-Telegram chats get no sink')
    // A key Telegram cannot have is not rounded into one (99999999999999999999 used to reach chat 1e20).
    for (const key of ['99999999999999999999', '9007199254740993', '0119']) assert.equal(bot.app.orchestrator.defaultSink(key), null, key)
    assert.notEqual(bot.app.orchestrator.defaultSink('-1001234567890'), null, 'a supergroup id is a Telegram chat')
  })

  test('a message through the admin chat endpoint is answered in Telegram too', async () => {
    const adminUrl = await bot.app.listenAdmin({ host: '127.0.0.1', port: 0 })
    const res = await fetch(`${adminUrl}/api/chats/119/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the api [[reply:api answer]]' })
    })
    assert.equal(res.status, 200)
    assert.equal((await res.json() as { reply: string }).reply, 'api answer')
    await bot.waitMessage((m) => m.text === 'api answer', 'the reply in Telegram', 119)
  })
})

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { waitFor } from '../helper.ts'
import { cleanups, replyMarker, startBot, until, type BotHarness } from './helpers.ts'

type Keyboard = { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }
const readRecord = async (path: string): Promise<{ argv: string[] } | undefined> => await readFile(path, 'utf8').then((t) => JSON.parse(t) as { argv: string[] }).catch(() => undefined)

describe('Telegram: buttons, files out, media in', () => {
  let bot: BotHarness
  let outside: string
  const cleanup = cleanups()
  after(cleanup.run)
  before(async () => {
    outside = await mkdtemp(join(tmpdir(), 'ductor-outside-'))
    cleanup.after(async () => { await rm(outside, { recursive: true, force: true }) })
    bot = await startBot(cleanup, { config: { file_access: 'workspace' }, env: { FAKE_CLI_RECORD: join(outside, 'record.json') } })
  })

  test('[button:…] markers become an inline keyboard; a press marks the choice and runs the label as the next message', async () => {
    const chat = 111
    const marker = await replyMarker(outside, 'Pick one:\n[button:Yes] [button:No]\n[button:Maybe later]')
    await bot.say(`ask me ${marker}`, { chatId: chat, from: chat })
    const question = await bot.waitMessage((m) => m.text === 'Pick one:' && m.reply_markup !== undefined, 'the question with buttons', chat)
    const keyboard = question.reply_markup as Keyboard
    assert.deepEqual(keyboard.inline_keyboard.map((row) => row.map((b) => b.text)), [['Yes', 'No'], ['Maybe later']])
    await bot.press(question, 'Maybe later')
    await bot.waitMessage((m) => m.text === 'echo: Maybe later', 'the label run as the user\'s message', chat)
    const marked = bot.messages(chat).find((m) => m.message_id === question.message_id)
    assert.deepEqual((marked?.reply_markup as Keyboard).inline_keyboard.map((row) => row.map((b) => b.text)), [['✅ Maybe later']])
    assert.ok(bot.fake.callsOf('answerCallbackQuery').length > 0, 'the press was answered')
    await bot.press(marked!, 'x:chosen')
    await until(() => bot.fake.callsOf('answerCallbackQuery').some((c) => c.params.text === 'Already chosen.'), 'a second press to be refused')
  })

  test('one choice per buttons message: a double tap runs the label once, and a late press of another button (the old keyboard still shown) sends nothing', async () => {
    const chat = 118
    await bot.say(`pay it? ${await replyMarker(outside, 'Shall I pay the invoice?\n[button:Yes] [button:No]')}`, { chatId: chat, from: chat })
    const question = await bot.waitMessage((m) => m.text === 'Shall I pay the invoice?' && m.reply_markup !== undefined, 'the question with buttons', chat)
    const refusals = (): number => bot.fake.callsOf('answerCallbackQuery').filter((c) => c.params.text === 'Already chosen.').length
    const before = refusals()
    // Both presses carry the keyboard as it was: the second left the phone before the ✅ mark arrived.
    await Promise.all([bot.press(question, 'Yes'), bot.press(question, 'Yes')])
    await bot.waitMessage((m) => m.text === 'echo: Yes', 'the label run as the user\'s message', chat)
    await bot.press(question, 'No')
    await until(() => refusals() === before + 2, 'the second tap and the late No to be answered "Already chosen."')
    await bot.say('and then? [[reply:then]]', { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text === 'then', 'the next reply', chat)
    assert.deepEqual(bot.texts(chat).filter((text) => text.startsWith('echo:')), ['echo: Yes'], 'the agent heard one Yes and no No')
  })

  test('a press Telegram no longer lets us answer (too old, e.g. replayed after a restart) still sends the label', async () => {
    const chat = 117
    await bot.say(`ask ${await replyMarker(outside, 'Ready?\n[button:Go]')}`, { chatId: chat, from: chat })
    const question = await bot.waitMessage((m) => m.text === 'Ready?' && m.reply_markup !== undefined, 'the question with buttons', chat)
    bot.fake.fail('answerCallbackQuery', { status: 400 }, 1)
    await bot.press(question, 'Go')
    await bot.waitMessage((m) => m.text === 'echo: Go', 'the label run as the user\'s message', chat)
  })

  test('<file:…> tags send files inside the allowed root; outside, symlinked out or missing files get a note', async () => {
    const chat = 112
    const ws = bot.paths.workspace
    await mkdir(join(ws, 'output_to_user'), { recursive: true })
    await writeFile(join(ws, 'output_to_user', 'chart.png'), Buffer.from('89504e470d0a1a0a', 'hex'))
    await writeFile(join(ws, 'output_to_user', 'report.txt'), 'the report')
    await writeFile(join(outside, 'secret.txt'), 'secret')
    await symlink(join(outside, 'secret.txt'), join(ws, 'output_to_user', 'link.txt'))
    const reply = [
      'Here you go.',
      `<file:${join(ws, 'output_to_user', 'chart.png')}>`,
      `<file:${join(ws, 'output_to_user', 'report.txt')}>`,
      `<file:${join(outside, 'secret.txt')}>`,
      `<file:${join(ws, 'output_to_user', 'link.txt')}>`,
      `<file:${join(ws, 'missing.txt')}>`
    ].join('\n')
    await bot.say(`files please ${await replyMarker(outside, reply)}`, { chatId: chat, from: chat })
    await waitFor(() => bot.messages(chat).length >= 6 ? true : undefined, 10_000, 'the reply, two files and three notes')
    const shown = bot.messages(chat)
    assert.equal(shown[0]?.text, 'Here you go.')
    assert.deepEqual(shown.filter((m) => m.kind === 'photo').map((m) => m.file?.file_name), ['chart.png'])
    assert.deepEqual(shown.filter((m) => m.kind === 'document').map((m) => m.file?.file_name), ['report.txt'])
    const notes = shown.filter((m) => m.kind === 'text' && m.text.startsWith('⚠️')).map((m) => m.text)
    assert.equal(notes.length, 3)
    assert.match(notes[0] ?? '', /secret\.txt.*outside the allowed folder/)
    assert.match(notes[1] ?? '', /link\.txt.*outside the allowed folder/)
    assert.match(notes[2] ?? '', /missing\.txt.*file not found/)
  })

  test('a photo is downloaded into telegram_files/<day>/ and the agent is told where, with the caption', async () => {
    const chat = 113
    const fileId = bot.fake.addFile(Buffer.from('jpeg bytes'), { filePath: 'photos/file_9.jpg' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, caption: 'what is this? [[reply:a cat]]', photo: [{ file_id: 'small', file_unique_id: 's', width: 90, height: 90, file_size: 5 }, { file_id: fileId, file_unique_id: 'u9', width: 800, height: 600, file_size: 10 }] } })
    await bot.waitMessage((m) => m.text === 'a cat', 'the answer about the photo', chat)
    const days = (await readdir(bot.paths.telegramFiles)).filter((name) => name !== '_index.yaml')
    assert.equal(days.length, 1)
    assert.match(days[0] ?? '', /^\d{4}-\d{2}-\d{2}$/)
    const files = await readdir(join(bot.paths.telegramFiles, days[0] ?? ''))
    const saved = files.find((f) => f.endsWith('.jpg'))
    assert.ok(saved !== undefined)
    const path = join(bot.paths.telegramFiles, days[0] ?? '', saved)
    assert.equal(await readFile(path, 'utf8'), 'jpeg bytes')
    const record = await waitFor(() => readRecord(join(outside, 'record.json')), 5000, 'the CLI record')
    const prompt = record.argv.at(-1) ?? ''
    assert.match(prompt, /sent a photo/)
    assert.ok(prompt.includes(path), 'the prompt says where the photo is')
    assert.match(prompt, /what is this\?/)
  })

  test('Codex gets images as --image; a document keeps its name', async () => {
    const chat = 114
    await bot.say('/model gpt-5.5', { chatId: chat, from: chat })
    await bot.waitMessage((m) => /Switched the default to/.test(m.text), 'the model switch', chat)
    const photoId = bot.fake.addFile(Buffer.from('png'), { filePath: 'photos/file_10.png' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, caption: 'look [[reply:seen]]', photo: [{ file_id: photoId, file_unique_id: 'u10', width: 1, height: 1, file_size: 3 }] } })
    await bot.waitMessage((m) => m.text === 'seen', 'the codex answer', chat)
    const record = await waitFor(async () => { const r = await readRecord(join(outside, 'record.json')); return r?.argv.join(' ').includes('look') === true ? r : undefined }, 5000, 'the codex record')
    const i = record.argv.indexOf('--image')
    assert.ok(i > 0, 'codex got --image')
    assert.match(record.argv[i + 1] ?? '', /telegram_files\/\d{4}-\d{2}-\d{2}\/photo_\d+\.png$/)

    const docId = bot.fake.addFile('a,b\n1,2\n', { filePath: 'documents/file_11' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, caption: 'sum it [[reply:3]]', document: { file_id: docId, file_unique_id: 'u11', file_name: '../../data.csv', file_size: 8, mime_type: 'text/csv' } } })
    await bot.waitMessage((m) => m.text === '3', 'the answer about the document', chat)
    const days = (await readdir(bot.paths.telegramFiles)).filter((name) => name !== '_index.yaml')
    const files = await readdir(join(bot.paths.telegramFiles, days[0] ?? ''))
    assert.ok(files.includes('data.csv'), 'the name is kept, without its folders')
    await bot.say('/model opus', { chatId: chat, from: chat })
    await until(() => bot.app.settings.config().model === 'opus', 'the default back to opus')
  })

  test('an album arrives as one message to the agent, with every file and the caption', async () => {
    const chat = 116
    const a = bot.fake.addFile('one', { filePath: 'photos/file_a.jpg' })
    const b = bot.fake.addFile('two', { filePath: 'photos/file_b.jpg' })
    const photo = (id: string): unknown => [{ file_id: id, file_unique_id: `u-${id}`, width: 1, height: 1, file_size: 3 }]
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, media_group_id: 'album1', caption: 'compare these [[reply:both seen]]', photo: photo(a) } })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, media_group_id: 'album1', photo: photo(b) } })
    await bot.waitMessage((m) => m.text === 'both seen', 'one answer for the album', chat)
    const record = await waitFor(async () => { const r = await readRecord(join(outside, 'record.json')); return r?.argv.join(' ').includes('compare these') === true ? r : undefined }, 5000, 'the album run')
    const prompt = record.argv.at(-1) ?? ''
    assert.equal(prompt.match(/sent a photo/g)?.length, 2, 'both photos in one prompt')
    assert.ok(!/No caption/.test(prompt))
    assert.deepEqual(bot.texts(chat), ['both seen'], 'no queued indicator: one run')
  })

  test('a file too large for Telegram gets a clear reply', async () => {
    const chat = 115
    const big = bot.fake.addFile('x', { filePath: 'documents/big.iso', fileSize: 30 * 1024 * 1024 })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, document: { file_id: big, file_unique_id: 'big', file_name: 'big.iso', file_size: 30 * 1024 * 1024 } } })
    const reply = await bot.waitMessage((m) => /too large/.test(m.text), 'the too-large reply', chat)
    assert.match(reply.text, /20 MB/)
    assert.equal(bot.app.orchestrator.isBusy(String(chat)), false)
  })
})

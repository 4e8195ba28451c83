import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'
import { cleanups, startBot, USERS, type BotHarness } from '../telegram/helpers.ts'
import { waitFor } from '../helper.ts'
import { startFakeStt } from './fake-stt.ts'
import { FFMPEG, NO_FFMPEG, makeVideo, makeVoice, pdfBytes } from './samples.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'

/**
 * A voice note, a short video and a PDF sent in Telegram each lead to an answer that uses their
 * content, through the real entry point: the fake Bot API serves the files, the service downloads
 * them, and the fake agent (`[[run-tools]]`) runs the `ductor media` command the prompt points it
 * at, as a real agent would; its answer carries what the command printed.
 */

const KEY = 'sk-stt-secret-key-abcdef0123456789'
const SPOKEN = 'please water the plants on Friday'

if (!FFMPEG) process.stdout.write(`# ${NO_FFMPEG}\n`)

describe('media sent in Telegram', () => {
  const c = cleanups()
  after(c.run)
  let bot: BotHarness
  let samples: string
  let stt: Awaited<ReturnType<typeof startFakeStt>>

  const ready = (async () => {
    stt = await startFakeStt({ key: KEY, text: (r) => r.fileHead.toString('latin1') === 'RIFF' ? 'the video says hello world' : SPOKEN })
    c.after(stt.close)
    samples = await mkdtemp(join(tmpdir(), 'ductor-samples-'))
    c.after(async () => { await rm(samples, { recursive: true, force: true }) })
    bot = await startBot(c, { config: { media: { transcribe_voice: true, stt_url: stt.url, stt_api_key: KEY } } })
  })()

  const answer = async (chat: number, what: string, fn: (text: string) => boolean): Promise<string> =>
    await waitFor(() => { const all = bot.texts(chat).join('\n'); return fn(all) ? all : undefined }, 90_000, what)
      .catch((err: Error) => { throw new Error(`${err.message}; the chat shows: ${JSON.stringify(bot.texts(chat))}; logs: ${bot.logs.slice(-5).join('\n')}`) })

  test('a voice note is transcribed before the prompt is built: the agent answers from the text; the file is in _index.yaml', async () => {
    await ready
    const chat = USERS[0]
    const voice = FFMPEG ? (await makeVoice(join(samples, 'v.ogg')), await readFile(join(samples, 'v.ogg'))) : Buffer.from('OggS not really opus')
    const fileId = bot.fake.addFile(voice, { filePath: 'voice/file_1.oga' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, voice: { file_id: fileId, file_unique_id: 'v1', duration: 1, mime_type: 'audio/ogg', file_size: voice.length } } })
    const text = await answer(chat, 'the answer to the voice note', (t) => t.includes('Transcript of the voice note'))
    assert.ok(text.includes(`[Transcript of the voice note: ${SPOKEN}]`), text)
    assert.equal(stt.requests.at(-1)?.authorization, `Bearer ${KEY}`)

    const index = parse(await readFile(join(bot.paths.telegramFiles, '_index.yaml'), 'utf8')) as { total_files: number, tree: Record<string, Array<{ name: string, type: string, size: number, received: string }>> }
    const [day, files] = Object.entries(index.tree)[0] ?? []
    assert.match(day ?? '', /^\d{4}-\d{2}-\d{2}$/)
    assert.deepEqual(files?.map((f) => [f.name, f.type, f.size]), [[(await readdir(join(bot.paths.telegramFiles, day ?? ''))).find((n) => n.endsWith('.oga')), 'audio/ogg', voice.length]])
    assert.equal(index.total_files, 1)
    assert.ok(!bot.logs.join('\n').includes(KEY), 'the speech-to-text key is in no log line')
  })

  test('a PDF: the agent runs `ductor media read` and answers with its text', async () => {
    await ready
    const chat = USERS[1]
    const pdf = pdfBytes(['Quarterly revenue was 42 apples'])
    const fileId = bot.fake.addFile(pdf, { filePath: 'documents/file_2.pdf' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, caption: 'what was the revenue? [[run-tools]]', document: { file_id: fileId, file_unique_id: 'd2', file_name: 'report.pdf', mime_type: 'application/pdf', file_size: pdf.length } } })
    const text = await answer(chat, 'the answer to the PDF', (t) => t.includes('Quarterly revenue was 42 apples') || t.includes('ductor: '))
    assert.match(text, /\$ ductor media read \S+report\.pdf\nPDF, 1 page:\n\nQuarterly revenue was 42 apples/)
    const index = parse(await readFile(join(bot.paths.telegramFiles, '_index.yaml'), 'utf8')) as { tree: Record<string, Array<Record<string, unknown>>> }
    const entry = Object.values(index.tree).flat().find((f) => f['name'] === 'report.pdf')
    assert.deepEqual({ ...entry, received: typeof entry?.['received'] }, { name: 'report.pdf', type: 'application/pdf', size: pdf.length, received: 'string', caption: 'what was the revenue? [[run-tools]]' })
  })

  test('a short video: the agent runs `ductor media video` and answers with its key frames and the transcript of its sound', async () => {
    await ready
    const chat = USERS[2]
    if (FFMPEG) await makeVideo(join(samples, 'clip.mp4'))
    const video = FFMPEG ? await readFile(join(samples, 'clip.mp4')) : Buffer.from('not a video')
    const fileId = bot.fake.addFile(video, { filePath: 'videos/file_3.mp4' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, caption: '[[run-tools]]', video: { file_id: fileId, file_unique_id: 'c3', width: 160, height: 120, duration: 2, file_name: 'clip.mp4', mime_type: 'video/mp4', file_size: video.length } } })
    const text = await answer(chat, 'the answer to the video', (t) => t.includes('Transcript of the audio') || t.includes('ductor: '))
    if (!FFMPEG) {
      assert.match(text, /ductor: Video needs ffmpeg, which is not installed on this machine/)
      return
    }
    assert.match(text, /Key frames \(\d; look at these images\):\n\S+clip\.frames\/frame_001\.jpg/)
    assert.match(text, /Transcript of the audio:\nthe video says hello world/)
  })

  test('a voice note with no speech-to-text reachable: the user gets one sentence why, and the agent still gets the file', async () => {
    await ready
    const chat = USERS[3]
    await stt.close()
    const fileId = bot.fake.addFile(Buffer.from('OggS'), { filePath: 'voice/file_4.oga' })
    await bot.say('', { chatId: chat, from: chat, extra: { text: undefined, voice: { file_id: fileId, file_unique_id: 'v4', duration: 1, mime_type: 'audio/ogg', file_size: 4 } } })
    const text = await answer(chat, 'the warning and the answer', (t) => t.includes('echo:'))
    assert.match(text, /⚠️ I could not transcribe your voice note: the speech-to-text step failed \(the speech-to-text API at http:\/\/127\.0\.0\.1:\d+\/v1\/audio\/transcriptions could not be reached/)
    assert.match(text, /\[It could not be transcribed: /)
    assert.match(text, /\[To understand it, run: ductor media transcribe \S+\.oga\]/)
  })
})

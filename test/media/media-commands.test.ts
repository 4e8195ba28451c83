import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { join, delimiter } from 'node:path'
import { tmpdir } from 'node:os'
import { ductor, runCli } from '../helper.ts'
import { startFakeStt } from './fake-stt.ts'
import { FFMPEG, NO_FFMPEG, makeVideo, makeVoice, writeDocx, writePdf } from './samples.ts'

/**
 * `ductor media transcribe|video|read`, the commands the agent runs (templates/workspace/tools/media.md),
 * on real files made here, against a fake speech-to-text API. The first test runs the real `ductor`
 * executable; the others run the same command tree in this process (a spawn costs seconds here).
 */

const KEY = 'sk-test-stt-key-0123456789abcdef'

async function home (t: { after: (fn: () => Promise<void>) => void }, media: Record<string, unknown>): Promise<{ dir: string, env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-media-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  await mkdir(join(dir, 'config'), { recursive: true })
  await writeFile(join(dir, 'config', 'config.json'), JSON.stringify({ media }))
  return { dir, env: { DUCTOR_HOME: dir } }
}

if (!FFMPEG) process.stdout.write(`# ${NO_FFMPEG}\n`)

test('transcribe: the voice note goes to the configured API with the key; the transcript is printed, the key is not', async (t) => {
  const stt = await startFakeStt({ key: KEY, text: (r) => `you said hello (${r.fileBytes} bytes as ${r.fileName ?? '?'})` })
  t.after(stt.close)
  const h = await home(t, { stt_url: stt.url, stt_api_key: KEY, stt_model: 'whisper-large' })
  const file = join(h.dir, 'voice_1.oga')
  if (FFMPEG) await makeVoice(file)
  else await writeFile(file, Buffer.from('OggS fake voice bytes'))
  const run = await runCli(['media', 'transcribe', file], h.env)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /^you said hello \(\d+ bytes as voice_1\.ogg\)\n$/, 'the .oga voice note is sent under a name the API knows')
  assert.equal(stt.requests[0]?.model, 'whisper-large')
  assert.equal(stt.requests[0]?.fileHead.toString('latin1'), 'OggS', 'the real audio bytes were uploaded')
  assert.ok(!run.stdout.includes(KEY) && !run.stderr.includes(KEY))

  const json = await ductor(['media', 'transcribe', file, '--json'], h.env)
  assert.equal((JSON.parse(json.stdout) as { method: string }).method, 'api')
})

test('transcribe: a wrong key is the API\'s own message, without the key', async (t) => {
  const stt = await startFakeStt({ key: KEY, text: () => 'never' })
  t.after(stt.close)
  const h = await home(t, { stt_url: stt.url, stt_api_key: 'sk-wrong-key-0123456789abcdef' })
  const file = join(h.dir, 'a.ogg')
  await writeFile(file, 'OggS')
  const run = await ductor(['media', 'transcribe', file], h.env)
  assert.equal(run.code, 1)
  assert.match(run.stderr, /^ductor: the speech-to-text API at http:\/\/127\.0\.0\.1:\d+\/v1\/audio\/transcriptions answered HTTP 401: Incorrect API key provided\n$/)
  assert.ok(!run.stderr.includes('sk-wrong'))
})

test('transcribe with nothing set up: one sentence of what to install; a local whisper-cli on PATH is used when present', async (t) => {
  const h = await home(t, {})
  const file = join(h.dir, 'a.wav')
  await writeFile(file, 'RIFF....WAVE')
  const bare = await ductor(['media', 'transcribe', file], { ...h.env, PATH: '/nonexistent' + delimiter + '/bin' })
  assert.equal(bare.code, 1)
  assert.equal(bare.stderr, 'ductor: Transcription is not set up: set media.stt_url (and media.stt_api_key) in config.json to an OpenAI-compatible speech-to-text API, or install a local whisper (whisper.cpp\'s `whisper-cli`, or `pip install openai-whisper`).\n')

  // A stand-in whisper.cpp: prints what it was asked to read, as whisper-cli prints its text.
  const bin = join(h.dir, 'bin')
  await mkdir(bin)
  await writeFile(join(bin, 'whisper-cli'), '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -f ] && echo " local words from $(basename "$2")"; shift; done\n')
  await chmod(join(bin, 'whisper-cli'), 0o755)
  const local = await ductor(['media', 'transcribe', file, '--json'], { ...h.env, PATH: bin + delimiter + (process.env['PATH'] ?? '') })
  assert.equal(local.code, 0, local.stderr)
  assert.deepEqual(JSON.parse(local.stdout), { file, text: 'local words from a.wav', method: 'whisper-cli' })
})

test('video: key frames as JPEG files and the transcript of the audio track (real ffmpeg)', async (t) => {
  const stt = await startFakeStt({ text: (r) => `a tone of ${r.fileBytes} bytes of ${r.fileHead.toString('latin1')}` })
  t.after(stt.close)
  const h = await home(t, { stt_url: stt.url })
  const file = join(h.dir, 'clip.mp4')
  if (!FFMPEG) {
    await writeFile(file, 'not really a video')
    const run = await ductor(['media', 'video', file], { ...h.env, PATH: '/nonexistent' })
    assert.equal(run.code, 1)
    assert.match(run.stderr, /^ductor: Video needs ffmpeg, which is not installed on this machine: install it/)
    return
  }
  await makeVideo(file)
  const run = await ductor(['media', 'video', file, '--json'], h.env)
  assert.equal(run.code, 0, run.stderr)
  const r = JSON.parse(run.stdout) as { frames: string[], transcript?: string, info: { width: number, durationSeconds: number } }
  assert.equal(r.info.width, 160)
  assert.ok(r.frames.length >= 1 && r.frames.length <= 8, `frames: ${r.frames.length}`)
  for (const f of r.frames) assert.match(f, /clip\.frames\/frame_\d{3}\.jpg$/)
  assert.deepEqual((await readdir(join(h.dir, 'clip.frames'))).sort(), r.frames.map((f) => f.split('/').pop()).sort(), 'only the frames are left (the audio WAV is removed)')
  assert.match(r.transcript ?? '', /^a tone of \d+ bytes of RIFF$/, 'the audio track went to speech-to-text as WAV')

  // Without speech-to-text, the frames still come, with the sentence of what to install.
  const h2 = await home(t, {})
  await makeVideo(join(h2.dir, 'clip.mp4'))
  const text = await ductor(['media', 'video', join(h2.dir, 'clip.mp4'), '--max-frames', '1'], { ...h2.env, PATH: process.env['PATH'] ?? '' })
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /^Video: 2 s, 160x120, mpeg4, audio aac\nKey frames \(1; look at these images\):\n.*frame_001\.jpg\n\nNo transcript: Transcription is not set up/)
})

test('read: the text of a PDF written by hand, page by page; a Word file; a binary file is refused with what is supported', async (t) => {
  const h = await home(t, {})
  const pdf = join(h.dir, 'report.pdf')
  await writePdf(pdf, ['Quarterly revenue was 42 apples', 'Page two says (hello)'])
  const run = await ductor(['media', 'read', pdf], h.env)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /^PDF, 2 pages:\n\nQuarterly revenue was 42 apples\n\n---\n\nPage two says \(hello\)\n$/)
  const one = await ductor(['media', 'read', pdf, '--max-pages', '1', '--json'], h.env)
  assert.deepEqual(JSON.parse(one.stdout), { file: pdf, format: 'pdf', text: 'Quarterly revenue was 42 apples', pages: 2, pagesRead: 1, truncated: false })

  const bin = join(h.dir, 'blob.bin')
  await writeFile(bin, Buffer.from([0, 1, 2, 3, 0, 255]))
  const refused = await ductor(['media', 'read', bin], h.env)
  assert.equal(refused.code, 1)
  assert.equal(refused.stderr, 'ductor: blob.bin: .bin files cannot be read as text; supported are PDF, Word (.docx) and plain-text files\n')
  const docx = join(h.dir, 'notes.docx')
  await writeDocx(docx, ['Meeting notes', 'Buy 7 <green> pears & plums'])
  const word = await ductor(['media', 'read', docx], h.env)
  assert.equal(word.stdout, 'DOCX:\n\nMeeting notes\n\nBuy 7 <green> pears & plums\n', word.stderr)
  const missing = await ductor(['media', 'read', join(h.dir, 'nope.pdf')], h.env)
  assert.equal(missing.stderr, `ductor: ${join(h.dir, 'nope.pdf')}: no such file\n`)
})

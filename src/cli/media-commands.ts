import { Command, InvalidArgumentError } from 'commander'
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { resolveHome } from '../home/paths.ts'
import { readConfigReadOnly } from '../ops/config-read.ts'
import { transcribe } from '../media/transcribe.ts'
import { processVideo } from '../media/video.ts'
import { readDocument } from '../media/documents.ts'
import type { Config } from '../config.ts'
import { printResult } from './output.ts'
import type { CliIo } from './io.ts'

/**
 * `ductor media transcribe|video|read FILE`: what the agent runs to understand what the user sent
 * (templates/workspace/tools/media.md, ADR 22). They work on this machine, without the service:
 * the settings come from the home's config.json (`media.*`). A missing tool is one sentence of what
 * to install (exit 1).
 */
export function mediaCommand (io: CliIo): Command {
  const media = new Command('media').description('understand files the user sent: transcribe audio, look into a video, read a document')
  media.command('transcribe').description('speech to text of an audio file or voice note')
    .argument('<file>', 'the audio file')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { config, path } = await setup(io.env, file)
      const t = await transcribe(path, config.media, { env: io.env })
      say(io, opts, { file: path, text: t.text, method: t.method, ...(t.language !== undefined ? { language: t.language } : {}) }, () => t.text === '' ? '(no speech found)' : t.text)
    })
  media.command('video').description('key frames (images to look at) and a transcript of the audio track of a video')
    .argument('<file>', 'the video file')
    .option('--max-frames <n>', 'most frames to extract (1-16; default media.max_frames)', frames)
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: { json?: boolean, maxFrames?: number }) => {
      const { config, path } = await setup(io.env, file)
      const r = await processVideo(path, { env: io.env, maxFrames: opts.maxFrames ?? config.media.max_frames, speech: config.media })
      say(io, opts, r, () => {
        const i = r.info
        return [
          `Video: ${i.durationSeconds} s${i.width !== null ? `, ${i.width}x${i.height ?? '?'}` : ''}${i.videoCodec !== null ? `, ${i.videoCodec}` : ''}${i.audioCodec !== null ? `, audio ${i.audioCodec}` : ', no audio'}`,
          `Key frames (${r.frames.length}; look at these images):`,
          ...r.frames,
          '',
          r.transcript !== undefined ? `Transcript of the audio:\n${r.transcript === '' ? '(no speech found)' : r.transcript}` : `No transcript: ${r.transcriptNote ?? ''}`
        ].join('\n')
      })
    })
  media.command('read').description('the text of a document: PDF, Word (.docx) or plain text')
    .argument('<file>', 'the document')
    .option('--max-pages <n>', 'PDF pages to read (default 50)', (v: string) => positive(v, 10_000))
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: { json?: boolean, maxPages?: number }) => {
      const { path } = await setup(io.env, file)
      const d = await readDocument(path, opts.maxPages !== undefined ? { maxPages: opts.maxPages } : {})
      say(io, opts, d, () => {
        const pages = d.pages !== undefined ? `, ${d.pages} page${d.pages === 1 ? '' : 's'}${d.pagesRead !== d.pages ? `, first ${d.pagesRead ?? 0} read` : ''}` : ''
        return `${d.format.toUpperCase()}${pages}${d.truncated ? ', cut at 100000 characters' : ''}:\n\n${d.text === '' ? '(no text found: it may be scanned images; look at it as an image instead)' : d.text}`
      })
    })
  return media
}

async function setup (env: NodeJS.ProcessEnv, file: string): Promise<{ config: Config, path: string }> {
  const path = resolve(file)
  try {
    await access(path)
  } catch {
    throw new Error(`${path}: no such file`)
  }
  const reading = await readConfigReadOnly(resolveHome(env), env)
  if (reading.status === 'invalid') throw new Error(reading.message)
  return { config: reading.config, path }
}

function positive (value: string, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`)
  return n
}

const frames = (v: string): number => positive(v, 16)

function say (io: CliIo, opts: { json?: boolean }, value: unknown, text: () => string): void {
  printResult(io, opts, value, () => text() + '\n')
}

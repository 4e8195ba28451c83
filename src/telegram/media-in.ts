import { createWriteStream } from 'node:fs'
import { mkdir, open } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Api } from 'grammy'
import type { Message } from 'grammy/types'

/** The kinds of media a user can send (SPEC §4). */
export type MediaKind = 'photo' | 'document' | 'voice' | 'audio' | 'video' | 'video_note' | 'sticker'

export interface IncomingMedia {
  kind: MediaKind
  fileId: string
  fileSize?: number
  /** The name the user's app gave it (documents, audio, video). */
  fileName?: string
  mimeType?: string
}

/** Telegram's public Bot API serves files up to 20 MB (a self-hosted Bot API server allows more). */
const PUBLIC_DOWNLOAD_LIMIT = 20 * 1024 * 1024
const PUBLIC_API_ROOT = 'https://api.telegram.org'

export function mediaOf (msg: Message): IncomingMedia | null {
  const base = <T extends { file_id: string, file_size?: number }>(kind: MediaKind, f: T, extra: { file_name?: string, mime_type?: string } = {}): IncomingMedia => ({
    kind,
    fileId: f.file_id,
    ...(f.file_size !== undefined ? { fileSize: f.file_size } : {}),
    ...(extra.file_name !== undefined ? { fileName: extra.file_name } : {}),
    ...(extra.mime_type !== undefined ? { mimeType: extra.mime_type } : {})
  })
  if (msg.photo !== undefined && msg.photo.length > 0) return base('photo', msg.photo[msg.photo.length - 1] as { file_id: string, file_size?: number }, { mime_type: 'image/jpeg' })
  if (msg.document !== undefined) return base('document', msg.document, msg.document)
  if (msg.voice !== undefined) return base('voice', msg.voice, msg.voice)
  if (msg.audio !== undefined) return base('audio', msg.audio, msg.audio)
  if (msg.video !== undefined) return base('video', msg.video, msg.video)
  if (msg.video_note !== undefined) return base('video_note', msg.video_note)
  if (msg.sticker !== undefined) return base('sticker', msg.sticker, { mime_type: msg.sticker.is_animated ? 'application/x-tgsticker' : msg.sticker.is_video ? 'video/webm' : 'image/webp' })
  return null
}

export function isImage (media: IncomingMedia): boolean {
  return media.kind === 'photo' || (media.kind !== 'sticker' && (media.mimeType ?? '').startsWith('image/'))
}

export class FileTooLargeError extends Error {}

/** A safe file name: the user's name without folders or odd characters, else `<kind>_<time><ext>`. */
function safeFileName (media: IncomingMedia, telegramPath: string, at: Date): string {
  const given = basename(media.fileName ?? '').replace(/[^\w.\- ]+/g, '_').replace(/^[.\s]+/, '').slice(0, 120)
  if (given !== '') return given
  const ext = extname(telegramPath).replace(/[^\w.]/g, '') || (media.kind === 'photo' ? '.jpg' : media.kind === 'voice' ? '.ogg' : '')
  return `${media.kind}_${at.toISOString().slice(11, 19).replace(/:/g, '')}${ext}`
}

/**
 * Downloads one file with getFile into `dir` (created), never overwriting: `name`, `name-1`, …
 * Throws FileTooLargeError when Telegram will not serve it.
 */
export async function downloadMedia (api: Api, opts: { token: string, apiRoot: string, media: IncomingMedia, dir: string, now: Date }): Promise<string> {
  const { media } = opts
  const publicApi = opts.apiRoot.replace(/\/+$/, '') === PUBLIC_API_ROOT
  if (publicApi && (media.fileSize ?? 0) > PUBLIC_DOWNLOAD_LIMIT) throw new FileTooLargeError('too large')
  let filePath: string
  try {
    const file = await api.getFile(media.fileId)
    filePath = file.file_path ?? ''
  } catch (err) {
    if (/file is too big/i.test((err as Error).message)) throw new FileTooLargeError('too large')
    throw err
  }
  if (filePath === '') throw new Error('Telegram returned no file path')
  await mkdir(opts.dir, { recursive: true })
  const target = await reserve(opts.dir, safeFileName(media, filePath, opts.now))
  const res = await fetch(`${opts.apiRoot.replace(/\/+$/, '')}/file/bot${opts.token}/${filePath}`)
  if (!res.ok || res.body === null) throw new Error(`file download failed with HTTP ${res.status}`)
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(target))
  return target
}

async function reserve (dir: string, name: string): Promise<string> {
  const ext = extname(name)
  const stem = name.slice(0, name.length - ext.length)
  for (let i = 0; ; i++) {
    const path = join(dir, i === 0 ? name : `${stem}-${i}${ext}`)
    try {
      await (await open(path, 'wx')).close()
      return path
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 1000) throw err
    }
  }
}

/** The `ductor media` command that makes a file of this kind understandable to the agent, if any. */
function mediaTool (media: IncomingMedia): 'transcribe' | 'video' | 'read' | null {
  if (media.kind === 'voice' || media.kind === 'audio') return 'transcribe'
  if (media.kind === 'video' || media.kind === 'video_note' || (media.kind === 'document' && (media.mimeType ?? '').startsWith('video/'))) return 'video'
  if (media.kind === 'document' && (media.mimeType ?? '').startsWith('audio/')) return 'transcribe'
  if (media.kind === 'document' && !isImage(media)) return 'read'
  return null
}

export interface ReceivedFile {
  media: IncomingMedia
  path: string
  /** A voice note transcribed before the prompt was built (media.transcribe_voice). */
  transcript?: string
  /** Why it could not be transcribed (one sentence). */
  transcriptNote?: string
}

/** What the agent is told about files the user sent (one message, or an album) (SPEC §4). */
export function mediaPrompt (files: readonly ReceivedFile[], caption: string): string {
  const lines = files.map((f) => {
    const { media, path } = f
    const tool = mediaTool(media)
    const what = `[The user sent a ${media.kind.replace('_', ' ')} via Telegram. It is saved at: ${path}${media.mimeType !== undefined ? ` (${media.mimeType})` : ''}]`
    if (f.transcript !== undefined) return `${what}\n[Transcript of the ${media.kind === 'voice' ? 'voice note' : media.kind.replace('_', ' ')}: ${f.transcript === '' ? '(no speech found)' : f.transcript}]`
    const note = f.transcriptNote !== undefined ? `\n[It could not be transcribed: ${f.transcriptNote}]` : ''
    return tool === null ? what : `${what}${note}\n[To understand it, run: ductor media ${tool} ${shellQuote(path)}]`
  })
  const what = files.length === 1 ? (files[0]?.media.kind ?? 'file').replace('_', ' ') : 'files'
  lines.push(caption !== '' ? caption : `(No caption. Look at the ${what} and respond to it.)`)
  return lines.join('\n')
}

function shellQuote (path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`
}

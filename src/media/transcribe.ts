import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { tmpdir } from 'node:os'
import { findExecutable } from '../providers/resolve-binary.ts'
import { MissingToolError, INSTALL_SPEECH, runTool } from './tools.ts'

/** The `media.*` keys transcription reads (src/config-schema.ts). */
export interface SpeechSettings {
  stt_url: string
  stt_api_key: string
  stt_model: string
  whisper_binary: string
  whisper_model: string
}

export interface Transcript {
  text: string
  /** Which way it was made: the API, whisper.cpp or openai-whisper. */
  method: 'api' | 'whisper-cli' | 'whisper'
  language?: string
}

export interface TranscribeOptions {
  env: NodeJS.ProcessEnv
  /** Per attempt (default 5 minutes, like the Python version's local whisper). */
  timeoutMs?: number
}

/** Formats the API knows by name; Telegram names voice notes `.oga`, which is Ogg too. */
const API_NAMES: Record<string, string> = { '.oga': '.ogg', '.opus': '.ogg' }

/**
 * Speech to text (SPEC-less, ADR 22): an OpenAI-compatible API when `media.stt_url` is set, else a
 * local whisper (`media.whisper_binary`, or `whisper-cli` / `whisper` on PATH). MissingToolError
 * with one sentence of what to install when there is neither. The API key is sent as a bearer token
 * and appears in no message or log line.
 */
export async function transcribe (file: string, settings: SpeechSettings, opts: TranscribeOptions): Promise<Transcript> {
  const timeoutMs = opts.timeoutMs ?? 300_000
  if (settings.stt_url.trim() !== '') return await transcribeApi(file, settings, timeoutMs)
  const configured = settings.whisper_binary.trim()
  const whisper = configured !== ''
    ? findExecutable(configured, opts.env['PATH'])
    : findExecutable('whisper-cli', opts.env['PATH']) ?? findExecutable('whisper', opts.env['PATH'])
  if (whisper === null) {
    throw new MissingToolError(configured !== ''
      ? `media.whisper_binary is ${JSON.stringify(configured)}, which is not an executable file: install whisper there or fix the path in config.json.`
      : INSTALL_SPEECH)
  }
  return basename(whisper).startsWith('whisper-cli') || basename(whisper) === 'main'
    ? await transcribeWhisperCpp(whisper, file, settings, opts.env, timeoutMs)
    : await transcribeOpenAiWhisper(whisper, file, settings, opts.env, timeoutMs)
}

async function transcribeApi (file: string, settings: SpeechSettings, timeoutMs: number): Promise<Transcript> {
  const url = `${settings.stt_url.trim().replace(/\/+$/, '')}/audio/transcriptions`
  const ext = extname(file).toLowerCase()
  const name = API_NAMES[ext] !== undefined ? basename(file, extname(file)) + API_NAMES[ext] : basename(file)
  const form = new FormData()
  form.append('file', new Blob([await readFile(file)]), name)
  form.append('model', settings.stt_model)
  form.append('response_format', 'json')
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: settings.stt_api_key !== '' ? { authorization: `Bearer ${settings.stt_api_key}` } : {},
      body: form,
      signal: AbortSignal.timeout(timeoutMs)
    })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } }
    throw new Error(`the speech-to-text API at ${url} could not be reached (${e.name === 'TimeoutError' ? 'timed out' : e.cause?.code ?? e.message})`)
  }
  const body = await res.text()
  if (!res.ok) {
    let detail = body
    try { detail = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body } catch {}
    throw new Error(`the speech-to-text API at ${url} answered HTTP ${res.status}${detail.trim() !== '' ? `: ${detail.trim().slice(0, 300)}` : ''}`)
  }
  let parsed: { text?: unknown, language?: unknown }
  try { parsed = JSON.parse(body) as typeof parsed } catch { parsed = { text: body } }
  if (typeof parsed.text !== 'string') throw new Error(`the speech-to-text API at ${url} answered without a "text" field`)
  return { text: parsed.text.trim(), method: 'api', ...(typeof parsed.language === 'string' ? { language: parsed.language } : {}) }
}

/** whisper.cpp reads 16 kHz mono WAV: anything else is converted with ffmpeg first (when present). */
async function transcribeWhisperCpp (bin: string, file: string, settings: SpeechSettings, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Transcript> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-stt-'))
  try {
    let input = file
    if (extname(file).toLowerCase() !== '.wav') {
      const ffmpeg = findExecutable('ffmpeg', env['PATH'])
      if (ffmpeg === null) throw new MissingToolError('whisper-cli reads WAV only and ffmpeg, which converts other audio to it, is not installed: install ffmpeg (Debian/Ubuntu: `sudo apt install ffmpeg`, macOS: `brew install ffmpeg`).')
      input = join(dir, 'audio.wav')
      await runTool(ffmpeg, ['-nostdin', '-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '16000', '-f', 'wav', input], { env, timeoutMs })
    }
    const args = ['-f', input, '--no-timestamps', ...(settings.whisper_model !== '' ? ['-m', settings.whisper_model] : [])]
    const out = await runTool(bin, args, { env, timeoutMs })
    return { text: out.split('\n').map((l) => l.trim()).filter(Boolean).join(' '), method: 'whisper-cli' }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** openai-whisper writes `<stem>.txt` into --output_dir. */
async function transcribeOpenAiWhisper (bin: string, file: string, settings: SpeechSettings, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Transcript> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-stt-'))
  try {
    const args = [file, '--output_format', 'txt', '--output_dir', dir, ...(settings.whisper_model !== '' ? ['--model', settings.whisper_model] : [])]
    const out = await runTool(bin, args, { env, timeoutMs })
    const txt = (await readdir(dir)).find((n) => n.endsWith('.txt'))
    const text = txt !== undefined ? await readFile(join(dir, txt), 'utf8') : out
    return { text: text.trim(), method: 'whisper' }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

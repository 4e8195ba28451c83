import { execa } from 'execa'
import { findExecutable } from '../providers/resolve-binary.ts'

/**
 * A tool the media commands need is not installed or not configured. Its message is one sentence
 * saying what to install or set, shown as is to the agent (the command's error) and to the user.
 */
export class MissingToolError extends Error {
  override name = 'MissingToolError'
}

const INSTALL_FFMPEG = 'Video needs ffmpeg, which is not installed on this machine: install it (Debian/Ubuntu: `sudo apt install ffmpeg`, macOS: `brew install ffmpeg`).'
export const INSTALL_SPEECH = 'Transcription is not set up: set media.stt_url (and media.stt_api_key) in config.json to an OpenAI-compatible speech-to-text API, or install a local whisper (whisper.cpp\'s `whisper-cli`, or `pip install openai-whisper`).'

/** ffmpeg and ffprobe, found on PATH; MissingToolError when either is missing. */
export function requireFfmpeg (env: NodeJS.ProcessEnv): { ffmpeg: string, ffprobe: string } {
  const ffmpeg = findExecutable('ffmpeg', env['PATH'])
  const ffprobe = findExecutable('ffprobe', env['PATH'])
  if (ffmpeg === null || ffprobe === null) throw new MissingToolError(INSTALL_FFMPEG)
  return { ffmpeg, ffprobe }
}

/** Runs a media tool with a time limit; its stderr tail becomes the error message when it fails. */
export async function runTool (file: string, args: string[], opts: { env: NodeJS.ProcessEnv, timeoutMs: number, cwd?: string }): Promise<string> {
  const result = await execa(file, args, { env: opts.env, extendEnv: false, timeout: opts.timeoutMs, reject: false, stdin: 'ignore', ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) })
  if (result.timedOut) throw new Error(`${file} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`)
  if (result.exitCode !== 0) {
    const tail = String(result.stderr ?? '').trim().split('\n').slice(-3).join(' ').slice(0, 400)
    throw new Error(`${file} failed (exit ${result.exitCode ?? result.signal ?? '?'})${tail !== '' ? `: ${tail}` : ''}`)
  }
  return String(result.stdout ?? '')
}

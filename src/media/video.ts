import { mkdir, readdir, rm } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { MissingToolError, requireFfmpeg, runTool } from './tools.ts'
import { transcribe, type SpeechSettings } from './transcribe.ts'

export interface VideoInfo {
  durationSeconds: number
  width: number | null
  height: number | null
  videoCodec: string | null
  audioCodec: string | null
}

export interface VideoResult {
  file: string
  info: VideoInfo
  /** Key frames as JPEG files, evenly spread over the video. */
  frames: string[]
  /** Transcript of the audio track, when there is one and speech-to-text is available. */
  transcript?: string
  /** Why there is no transcript (no audio track, or one sentence of what to install). */
  transcriptNote?: string
}

export interface VideoOptions {
  env: NodeJS.ProcessEnv
  maxFrames: number
  speech: SpeechSettings
  timeoutMs?: number
}

/** As many frames as the Python version takes: about one per 4 s of a short clip, one per 12 s of a long one. */
function frameCount (duration: number, max: number): number {
  if (!(duration > 0)) return 1
  if (duration <= 3) return Math.min(Math.max(1, Math.floor(duration)), max)
  if (duration <= 30) return Math.min(Math.max(2, Math.floor(duration / 4)), max)
  return Math.min(Math.max(3, Math.floor(duration / 12)), max)
}

/**
 * Key frames plus a transcript of the audio track (ffmpeg/ffprobe). Frames go to `<name>.frames/`
 * beside the video (kept, so the agent can look at them); the audio is a temp WAV, removed after.
 */
export async function processVideo (file: string, opts: VideoOptions): Promise<VideoResult> {
  const { ffmpeg, ffprobe } = requireFfmpeg(opts.env)
  const timeoutMs = opts.timeoutMs ?? 120_000
  const probeOut = await runTool(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], { env: opts.env, timeoutMs })
  const probe = JSON.parse(probeOut) as { format?: { duration?: string }, streams?: Array<{ codec_type?: string, codec_name?: string, width?: number, height?: number }> }
  const streams = probe.streams ?? []
  const video = streams.find((s) => s.codec_type === 'video')
  const audio = streams.find((s) => s.codec_type === 'audio')
  if (video === undefined) throw new Error(`${basename(file)} has no video stream (for audio alone use \`ductor media transcribe\`)`)
  const info: VideoInfo = {
    durationSeconds: Math.round(Number(probe.format?.duration ?? 0) * 100) / 100 || 0,
    width: video.width ?? null,
    height: video.height ?? null,
    videoCodec: video.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null
  }
  const framesDir = join(dirname(file), `${basename(file, extname(file))}.frames`)
  await rm(framesDir, { recursive: true, force: true })
  await mkdir(framesDir, { recursive: true })
  const count = frameCount(info.durationSeconds, opts.maxFrames)
  const filter = info.durationSeconds > 0 ? `fps=${(count / info.durationSeconds).toFixed(4)}` : 'select=eq(n\\,0)'
  await runTool(ffmpeg, ['-nostdin', '-v', 'error', '-i', file, '-vf', filter, '-frames:v', String(count), '-q:v', '2', join(framesDir, 'frame_%03d.jpg')], { env: opts.env, timeoutMs })
  const frames = (await readdir(framesDir)).filter((n) => n.endsWith('.jpg')).sort().slice(0, count).map((n) => join(framesDir, n))
  const result: VideoResult = { file, info, frames }
  if (audio === undefined) {
    result.transcriptNote = 'The video has no audio track.'
    return result
  }
  const wav = join(framesDir, 'audio.wav')
  try {
    await runTool(ffmpeg, ['-nostdin', '-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '16000', '-f', 'wav', wav], { env: opts.env, timeoutMs })
    const transcript = await transcribe(wav, opts.speech, { env: opts.env })
    result.transcript = transcript.text
  } catch (err) {
    result.transcriptNote = err instanceof MissingToolError ? err.message : `The audio could not be transcribed: ${(err as Error).message}.`
  } finally {
    await rm(wav, { force: true })
  }
  return result
}

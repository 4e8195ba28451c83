// What a fake model API answers: the reply shapes a test can script, and the default script that
// reads markers from the prompt (the same markers as the probe in test/fixtures/cli/NOTES.md).
import type { RecordingServer } from './http-server.ts'

/** One answer from a fake model API. A plain string is short for `{ kind: 'text', text }`. */
export type FakeReply =
  | {
    kind: 'text'
    text: string
    /** How many deltas the text is streamed in (default 2, or fewer for very short text). */
    chunks?: number
    /** Pause before each delta, in ms (default 0): `chunks: 40, delayMs: 250` streams for 10 s. */
    delayMs?: number
  }
  | {
    /** A shell tool call: Claude's `Bash` or Codex's `exec_command`, with `text` said first (Claude only). */
    kind: 'tool'
    command: string
    text?: string
    /** Claude only: another tool than Bash (e.g. `Write`), called with `input` instead of `command`. */
    name?: string
    input?: Record<string, unknown>
  }
  | {
    kind: 'error'
    /** HTTP status: 500, 429, 401, 529, 400… */
    status: number
    message?: string
    /** Seconds, sent as the `retry-after` header. */
    retryAfter?: number
  }

/** What a script gets to decide on: the request as recorded, with its conversation pre-digested. */
export interface ModelCall {
  /** 0-based position among this server's model calls (HEAD probes and other routes not counted). */
  index: number
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON request body. */
  body: Record<string, unknown>
  /** The text of the last user turn: the prompt of this run (or '' when the last turn is a tool result). */
  prompt: string
  /** The output of the tool call this request answers, when its last input is a tool result. */
  toolResult: string | undefined
  /**
   * The conversation as role + text, in order. Claude: each of `messages` (roles user, system,
   * assistant; tool_use blocks carry no text). Codex: each `input` message (developer, user,
   * assistant), a `function_call` as assistant `<name> <arguments>`, its output as role `tool`.
   */
  turns: Turn[]
  /** Every string of the conversation joined by newlines, for `includes(...)` checks. */
  transcript: string
}

export interface Turn { role: string, text: string }

export type FakeScript = (call: ModelCall) => FakeReply | string | Promise<FakeReply | string>

/** A script, or one reply given to every call. */
export type ReplySource = FakeScript | FakeReply | string

export function toReply (reply: FakeReply | string): FakeReply {
  return typeof reply === 'string' ? { kind: 'text', text: reply } : reply
}

/**
 * The default script. Markers in the prompt choose the scenario: `[[tool]]` runs `echo hi`,
 * `[[tool-touch]]` runs `touch probe-created.txt`, `[[slow]]` streams 40 deltas 250 ms apart,
 * `[[500]]`, `[[429]]`, `[[401]]`, `[[529]]`, `[[400]]` answer that HTTP error. A request whose last
 * input is a tool result gets `The command printed: <output>`; anything else gets
 * `Hello from <name>. You said: <prompt>`.
 */
export function markerScript (name: string): FakeScript {
  return (call) => {
    if (call.toolResult !== undefined) return `The command printed: ${call.toolResult}`
    const p = call.prompt
    const error = /\[\[(\d{3})\]\]/.exec(p)
    if (error?.[1] !== undefined) {
      const status = Number(error[1])
      return { kind: 'error', status, ...(status === 429 || status === 529 ? { retryAfter: 1 } : {}) }
    }
    if (p.includes('[[tool-touch]]')) return { kind: 'tool', command: 'touch probe-created.txt', text: 'I will create a file.' }
    if (p.includes('[[tool]]')) return { kind: 'tool', command: 'echo hi', text: 'I will run a command.' }
    const text = `Hello from ${name}. You said: ${p}`
    if (p.includes('[[slow]]')) return { kind: 'text', text, chunks: 40, delayMs: 250 }
    return text
  }
}

/** Splits text into `n` pieces (by code point) that concatenate back to it. */
export function splitText (text: string, n: number): string[] {
  const chars = Array.from(text)
  const count = Math.max(1, Math.min(Math.floor(n), chars.length))
  const pieces: string[] = []
  for (let i = 0; i < count; i++) {
    pieces.push(chars.slice(Math.floor(i * chars.length / count), Math.floor((i + 1) * chars.length / count)).join(''))
  }
  return pieces
}

/** `7` → `0007`, for ids such as `msg_fake_0007`. */
export function pad (n: number): string {
  return String(n).padStart(4, '0')
}

/** Every string value under `value`, depth first (used for `ModelCall.transcript`). */
export function allStrings (value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(allStrings)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(allStrings)
  return []
}

/** The text of a content field: a string, or the `text`/`content` strings of its blocks. */
export function contentText (content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((block: unknown) => {
    if (typeof block === 'string') return block
    if (block === null || typeof block !== 'object') return ''
    const b = block as Record<string, unknown>
    if (typeof b['text'] === 'string') return b['text']
    return contentText(b['content'])
  }).filter((s) => s !== '').join('\n')
}

export function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** One-shot replies (used first, in order), then the script, then the default marker script. */
export function createReplies (fallback: FakeScript, initial?: ReplySource): {
  enqueue: (...replies: Array<FakeReply | string>) => void
  setReply: (source: ReplySource | undefined) => void
  next: (call: ModelCall) => Promise<FakeReply>
} {
  const queue: Array<FakeReply | string> = []
  let script: ReplySource | undefined = initial
  return {
    enqueue (...replies) { queue.push(...replies) },
    setReply (source) { script = source },
    async next (call) {
      const queued = queue.shift()
      if (queued !== undefined) return toReply(queued)
      if (script === undefined) return toReply(await fallback(call))
      if (typeof script === 'function') return toReply(await script(call))
      return toReply(script)
    }
  }
}

export interface FakeModelApiOptions {
  /** Decides each reply (after any enqueued one): a script, or one reply for every call. Default: the marker script. */
  reply?: ReplySource
}

export interface FakeModelApi extends RecordingServer {
  /** The base URL to give the CLI (`ANTHROPIC_BASE_URL`, or Codex's provider `base_url`). */
  baseUrl: string
  /** The model calls only (`POST /v1/messages` or `/v1/responses`), in order. */
  calls: ModelCall[]
  /** Replies used once each, in order, before the script. */
  enqueue: (...replies: Array<FakeReply | string>) => void
  /** Replaces the script (undefined: back to the marker script). */
  setReply: (source: ReplySource | undefined) => void
}

import type { CliEvent, CliResult, TokenUsage } from './events.ts'
import type { JsonObject } from './json-fields.ts'
import { createJsonlReader, type MalformedLine } from './jsonl-reader.ts'

/** An incremental parser of one CLI's stdout. */
export interface StreamParser {
  /** Feeds raw stdout; normalized events are emitted synchronously through `onEvent`. */
  write: (chunk: Uint8Array | string) => void
  /**
   * Flushes a last line without newline and returns the run's result: the CLI's own final
   * event when one arrived (`complete: true`), else one pieced together from what was seen
   * (`complete: false`, `isError: true`): session id, the last message's text, tokens so far.
   */
  end: () => CliResult
  /** True once anything recognizable (a session id, text, a result) was seen. */
  sawOutput: () => boolean
}

export interface StreamParserOptions {
  onEvent: (event: CliEvent) => void
  /** Called for each line that is not a JSON object; the line is skipped. */
  onMalformed?: (info: MalformedLine) => void
  /** Clock for durations the CLI does not report (Codex). Defaults to Date.now. */
  now?: () => number
  /** Longest reply text kept for a pieced-together result; default 1,000,000 characters. */
  maxTextChars?: number
  maxLineBytes?: number
}

export const DEFAULT_MAX_TEXT_CHARS = 1_000_000

/** A bounded text accumulator (the text of the latest message, for a salvaged result). */
export function appendCapped (current: string, piece: string, max: number): string {
  if (current.length >= max) return current
  const room = max - current.length
  return current + (piece.length > room ? piece.slice(0, room) : piece)
}

export function tokenUsage (input: number, output: number): TokenUsage {
  return { input, output, total: input + output }
}

/**
 * What both parsers keep alike, given to each CLI's own part: the events it emits, the session id,
 * whether anything recognizable was seen, the CLI's last result, and the clock for durations.
 */
export interface ParserBase {
  /** An event that does not count as output by itself (thinking, a status line). */
  emit: (event: CliEvent) => void
  /** An event that does (text, a tool call): `sawOutput()` turns true. */
  show: (event: CliEvent) => void
  /** The CLI's session (thread) id; a new one is announced once. */
  setSession: (id: string | undefined) => void
  sessionId: () => string | null
  /** The CLI's own final event: kept for `end()` and emitted. */
  result: (result: CliResult) => void
  /** Milliseconds since the parser was made. */
  elapsed: () => number
  readonly maxTextChars: number
}

/** One CLI's part of a parser: its lines, and what it can piece together when the stream stops early. */
export interface CliLines {
  handle: (line: JsonObject) => void
  /** True when the last result stands for the whole run (nothing came after it). */
  finished: () => boolean
  /** The result's fields when the stream stopped before its final event. */
  salvage: () => { text: string, tokens: TokenUsage, numTurns: number, errorMessage: string }
}

/** A stream parser: JSONL lines (jsonl-reader.ts) to the CLI's own part, made by `lines`. */
export function createStreamParser (options: StreamParserOptions, lines: (base: ParserBase) => CliLines): StreamParser {
  const emit = options.onEvent
  const now = options.now ?? Date.now
  const startedAt = now()
  let sessionId: string | null = null
  let lastResult: CliResult | null = null
  let seen = false

  const cli = lines({
    emit,
    show (event) {
      seen = true
      emit(event)
    },
    setSession (id) {
      if (id === undefined || id === '' || id === sessionId) return
      sessionId = id
      seen = true
      emit({ type: 'session', sessionId: id })
    },
    sessionId: () => sessionId,
    result (result) {
      lastResult = result
      seen = true
      emit({ type: 'result', result })
    },
    elapsed: () => now() - startedAt,
    maxTextChars: options.maxTextChars ?? DEFAULT_MAX_TEXT_CHARS
  })
  const reader = createJsonlReader({ onObject: cli.handle, onMalformed: options.onMalformed, maxLineBytes: options.maxLineBytes })

  function end (): CliResult {
    reader.end()
    if (lastResult !== null && cli.finished()) return lastResult
    const { text, tokens, numTurns, errorMessage } = cli.salvage()
    return { text, sessionId, costUsd: null, tokens, durationMs: now() - startedAt, numTurns, isError: true, errorMessage, complete: false }
  }

  return { write: reader.write, end, sawOutput: () => seen }
}

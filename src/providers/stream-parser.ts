import type { CliEvent, CliResult } from './events.ts'
import type { MalformedLine } from './jsonl-reader.ts'

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

/**
 * Normalized events of one CLI run (SPEC §7.1). Both stream parsers emit these, whatever the
 * CLI; the orchestrator, the Telegram streaming editor and the SSE endpoint consume them.
 */

export { PROVIDERS, type ProviderName } from '../models.ts'

export interface TokenUsage {
  /** Every input token the model read, cached or not (Claude: input + cache creation + cache read). */
  input: number
  /** Output tokens, reasoning included. */
  output: number
  /** input + output. */
  total: number
}

/** What one run produced, as the CLI reported it (or as far as it got). */
export interface CliResult {
  /** The final reply: Claude's `result.result`, Codex's last `agent_message`. */
  text: string
  /** Claude `session_id` / Codex `thread_id`; null when the CLI never said. */
  sessionId: string | null
  /** Claude's `total_cost_usd`; Codex reports no cost (null). */
  costUsd: number | null
  tokens: TokenUsage
  durationMs: number
  numTurns: number
  isError: boolean
  /** Set when isError: the CLI's own error text, human-readable. */
  errorMessage?: string
  /** Claude's `api_error_status` (e.g. 401, 429, 500) when the API failed. */
  apiErrorStatus?: number
  /**
   * False when the stream stopped before the CLI's final event (SIGTERM, crash, timeout) and
   * this result was pieced together from what arrived.
   */
  complete: boolean
}

/** Why a `status` event was sent: lets a consumer pick an icon without parsing the text. */
export type StatusKind = 'compacting' | 'retrying' | 'warning' | 'error' | 'info'

export type CliEvent =
  /** The session id is known (the first line of either CLI). Sent once per id. */
  | { type: 'session', sessionId: string }
  /**
   * Reply text to append to what came before. Blocks and messages are separated by the parser
   * ("\n\n" is part of the delta), so concatenating every `text` gives the streamed transcript.
   */
  | { type: 'text', text: string }
  /** Model reasoning to append (a delta, like `text`). */
  | { type: 'thinking', text: string }
  /** A tool call: tool name and a short human summary (a command cut to ~60 chars, a path). */
  | { type: 'tool', name: string, summary: string }
  /** Something worth a status line, e.g. 'compacting', 'retrying 2/10 (rate_limit)'. */
  | { type: 'status', kind: StatusKind, status: string }
  /** The run's final result. A Claude stream fed several prompts may send more than one. */
  | { type: 'result', result: CliResult }

export type CliEventType = CliEvent['type']

export function emptyTokens (): TokenUsage {
  return { input: 0, output: 0, total: 0 }
}

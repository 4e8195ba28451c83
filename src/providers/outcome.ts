/**
 * How a CLI run ended, as a stable status (SPEC §8.2 where it applies) and a sentence for the
 * user. Pure: the runner gathers the facts, this decides what they mean. Never a stack trace.
 */
import { signalExitCode } from '../exit-codes.ts'
import type { CliResult, ProviderName } from './events.ts'

export type RunStatus =
  | 'success'
  | 'error:timeout'
  | 'error:aborted'
  | 'error:killed'
  | 'error:not_logged_in'
  | 'error:cli_error'
  | 'error:folder_missing'
  | 'error:ask_in_sandbox'
  | `error:cli_not_found_${ProviderName}`
  | `error:exit_${number}`

/** The status without its details, for a `switch`. */
export type RunOutcomeKind =
  | 'success' | 'timeout' | 'aborted' | 'killed' | 'not_logged_in' | 'cli_error' | 'folder_missing'
  | 'cli_not_found' | 'exit'

/** Why ductor itself stopped a run. `stale`: older than the sweep limit (e.g. after a suspend). */
export type StopReason = 'user' | 'timeout' | 'stale' | 'shutdown'

export interface ExitFacts {
  provider: ProviderName
  /** argv[0] as spawned. */
  binary: string
  /** `ENOENT` when the binary could not be spawned; `ENOCWD` when the working directory is missing. */
  spawnError?: string
  /** The CLI spawner process died while the CLI ran; ductor killed the CLI (ADR 0032). */
  spawnerLost?: boolean
  exitCode: number | null
  signal: string | null
  stopReason: StopReason | null
  timeoutMs: number
  durationMs: number
  result: CliResult | null
  stderrTail: string
}

export interface Classification {
  status: RunStatus
  kind: RunOutcomeKind
  /** A sentence to show the user; absent on success. */
  userMessage?: string
  /** The CLI could not find the session to resume: start a fresh one. */
  sessionNotFound?: true
}

const LABEL: Record<ProviderName, string> = { claude: 'Claude Code', codex: 'Codex' }
const INSTALL: Record<ProviderName, string> = {
  claude: 'npm install -g @anthropic-ai/claude-code',
  codex: 'npm install -g @openai/codex'
}
const LOGIN: Record<ProviderName, string> = { claude: 'run `claude` to log in', codex: 'run `codex login`' }

const NOT_LOGGED_IN: Record<ProviderName, RegExp> = {
  claude: /invalid api key|please run \/login|not logged in|oauth token (?:has )?expired|authentication_error/i,
  codex: /401 unauthorized|not logged in|codex login|invalid api key|incorrect api key/i
}

/** The error of a run the service's shutdown stopped (a chat is told of it by the next start, ADR 19). */
export const SHUTDOWN_STOP_MESSAGE = 'Stopped: ductor is shutting down.'

export function classifyExit (facts: ExitFacts): Classification {
  const { provider, result } = facts
  const label = LABEL[provider]
  switch (facts.stopReason) {
    case 'user':
      return { status: 'error:aborted', kind: 'aborted', userMessage: 'Stopped.' }
    case 'shutdown':
      return { status: 'error:aborted', kind: 'aborted', userMessage: SHUTDOWN_STOP_MESSAGE }
    case 'timeout':
      return { status: 'error:timeout', kind: 'timeout', userMessage: `${label} timed out after ${seconds(facts.timeoutMs)} s.` }
    case 'stale':
      return {
        status: 'error:timeout',
        kind: 'timeout',
        userMessage: `${label} was stopped after running ${seconds(facts.durationMs)} s (stale process).`
      }
  }
  if (facts.spawnerLost === true) {
    return { status: 'error:killed', kind: 'killed', userMessage: `${label} was stopped: ductor's CLI spawner process ended unexpectedly. Send the message again.` }
  }
  if (facts.spawnError === 'ESPAWNER') {
    return { status: 'error:cli_error', kind: 'cli_error', userMessage: `${label} could not be started: ductor's CLI spawner process ended unexpectedly. Send the message again.` }
  }
  if (facts.spawnError === 'ENOCWD') {
    return { status: 'error:folder_missing', kind: 'folder_missing', userMessage: 'The working directory does not exist.' }
  }
  if (facts.spawnError === 'ENOENT') {
    const userMessage = /(^|\/)docker$/.test(facts.binary)
      ? 'Docker not found: install it or turn off the docker sandbox.'
      : `${label} CLI not found. Install it with \`${INSTALL[provider]}\``
    return { status: `error:cli_not_found_${provider}`, kind: 'cli_not_found', userMessage }
  }
  if (facts.spawnError !== undefined) {
    return { status: 'error:cli_error', kind: 'cli_error', userMessage: `${label} could not be started (${facts.spawnError}).` }
  }
  if (facts.signal === 'SIGKILL') {
    return {
      status: 'error:killed',
      kind: 'killed',
      userMessage: `${label} was killed (SIGKILL, probably out of memory).`
    }
  }
  const failed = facts.exitCode !== 0 || facts.signal !== null || result === null || result.isError || !result.complete
  if (!failed) return { status: 'success', kind: 'success' }

  const errorText = result?.isError === true && result.complete ? result.errorMessage ?? '' : ''
  const stderr = usefulStderr(facts.stderrTail)
  if (result?.apiErrorStatus === 401 || NOT_LOGGED_IN[provider].test(`${errorText}\n${stderr}`)) {
    return { status: 'error:not_logged_in', kind: 'not_logged_in', userMessage: `${label} is not logged in: ${LOGIN[provider]}.` }
  }
  const detail = firstNonEmpty(errorText, stderr)
  const missing = SESSION_NOT_FOUND.test(`${errorText}\n${stderr}`) ? { sessionNotFound: true as const } : {}
  const code = facts.exitCode ?? (facts.signal === null ? null : signalExitCode(facts.signal))
  if (code !== null && code !== 0) {
    const how = facts.signal === null ? `exit code ${code}` : `${facts.signal}, exit code ${code}`
    return {
      status: `error:exit_${code}`,
      kind: 'exit',
      userMessage: `${label} failed (${how})` + (detail === '' ? '.' : `: ${detail}`),
      ...missing
    }
  }
  return {
    status: 'error:cli_error',
    kind: 'cli_error',
    userMessage: detail === '' ? `${label} ended without a reply.` : `${label} reported an error: ${detail}`,
    ...missing
  }
}

const SESSION_NOT_FOUND = /no conversation found with session id|no rollout found for thread id/i

/** Lines of stderr that only say how the CLI was started; never the reason it failed. */
const NOISE = [
  /^Reading additional input from stdin/,
  /^WARNING: proceeding, even though we could not create PATH aliases/,
  /^Warning: no stdin data received/,
  /^warning: `--full-auto` is deprecated/
]

/** The last meaningful lines of stderr, at most `maxChars` characters. */
export function usefulStderr (stderr: string, maxChars = 300): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !NOISE.some((re) => re.test(l)))
  const kept: string[] = []
  let size = 0
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? ''
    if (kept.length > 0 && size + line.length + 1 > maxChars) break
    kept.unshift(line)
    size += line.length + 1
  }
  const text = kept.join('\n')
  return text.length > maxChars ? text.slice(0, maxChars - 1) + '…' : text
}

function seconds (ms: number): number {
  return Math.round(ms / 100) / 10
}

function firstNonEmpty (...values: string[]): string {
  return values.find((v) => v.trim() !== '')?.trim() ?? ''
}

import type { CliEvent, ProviderName } from './events.ts'
import type { RunOutcome } from './runner.ts'
import type { WorkClaim } from '../claims.ts'

/**
 * What the core needs to run one CLI turn. The providers module implements it (argv, environment,
 * binary lookup, Docker wrapping, the process registry); tests replace it.
 */
export interface CliRequest {
  runId: string
  /** The chat the run belongs to (for the process registry and `DUCTOR_CHAT_ID`); tasks use their own key. */
  chatId: string
  provider: ProviderName
  model: string
  prompt: string
  /** Extra system text (memory on a new session). Claude gets it as --append-system-prompt; Codex in the prompt. */
  systemAppend?: string
  /** Session to resume; null/undefined starts a new one. */
  resumeSessionId?: string | null
  cwd: string
  reasoningEffort?: string
  /** Replaces the config's `cli_parameters` for this provider (per-task overrides). */
  cliParameters?: string[]
  images?: string[]
  /**
   * Unattended task runs: nothing written to the CLI's session store (Claude --no-session-persistence,
   * Codex --ephemeral), and Claude loads no CLAUDE.md from the folders above `cwd`.
   */
  noSessionPersistence?: boolean
  /** Replaces the config's `permission_mode` for this run (per chat, cron job, webhook). */
  permissionMode?: string
  /**
   * `permission_mode: "ask"`: the run's approval token (src/core/approvals.ts). Claude gets ductor's
   * permission-prompt tool, which sends it with each request (`DUCTOR_APPROVAL_RUN`).
   */
  approvalToken?: string
  onEvent: (event: CliEvent) => void
  signal: AbortSignal
  /**
   * What the run is made for: `claim.started()` is awaited right before the CLI execs (the runner
   * holds it behind a gate until then); when it rejects, `execute` rejects with that `ClaimRefused`
   * and the CLI never runs.
   */
  claim: WorkClaim
}

export interface CliExecutor {
  execute: (request: CliRequest) => Promise<RunOutcome>
}

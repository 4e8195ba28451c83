import type { RunEndStatus } from '../core/run-log.ts'
import type { WorkClaim } from '../claims.ts'

/**
 * The shared contract for isolated task runs (SPEC §8): cron jobs and `cron_task` webhooks both
 * run a fresh, context-isolated CLI session in a task folder, gated by quiet hours and the shared
 * dependency queue, with per-task overrides, recorded in the run history and delivered to the
 * allowed users' chats titled with the job/hook.
 */
export interface TaskOverrides {
  provider?: string | null
  model?: string | null
  reasoning_effort?: string | null
  cli_parameters?: readonly string[] | null
  /** `ask`: the run asks the chats it reports to before a risky tool (ADR 0029); null = the global mode. */
  permission_mode?: string | null
}

export interface TaskRunRequest {
  kind: 'cron' | 'webhook'
  /** The run-history id to record under (given by `POST /api/cron/:id/run` so it can answer it); generated when absent. */
  runId?: string
  /** The cron job id or hook id (run history `ref`). */
  ref: string
  /** Shown as the title of the delivered result. */
  title: string
  /** Folder name under workspace/cron_tasks/. */
  taskFolder: string
  /** The prompt (cron: the job's agent_instruction; webhook: the rendered, wrapped template). */
  prompt: string
  overrides: TaskOverrides
  /** The task's own quiet hours; missing bounds fall back to the cron-wide `cron.quiet_start`/`quiet_end` (none by default). */
  quietStart?: number | null
  quietEnd?: number | null
  dependency?: string | null
  /** A run the user asked for by hand (`POST /api/cron/:id/run`): the quiet window does not apply. */
  ignoreQuietHours?: boolean
  /**
   * What the run is made for (src/core/claims.ts): a webhook delivery's inbox claim; without one (cron)
   * a claim that only refuses once the service is stopping.
   */
  claim?: WorkClaim
}

export interface TaskRunResult {
  /** `success`, `error:…` or `skipped:quiet_hours` (SPEC §8.2, §9). */
  status: RunEndStatus
  /** The run-history id, when a run was recorded. */
  runId: string | null
  /** The agent's final reply (what was delivered), or '' when none. */
  reply: string
  error: string | null
}

export type RunTask = (request: TaskRunRequest) => Promise<TaskRunResult>

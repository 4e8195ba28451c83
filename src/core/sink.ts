import type { CliEvent, ProviderName } from '../providers/events.ts'
import type { CommandReply } from './commands.ts'
import type { DiscardReason } from './lanes.ts'
import type { ApprovalOutcome, ApprovalRequest } from './approvals.ts'
import type { RunEndStatus } from './run-log.ts'

/**
 * What the orchestrator tells the outside world about one message (SPEC §5): Telegram, the admin
 * API's SSE stream and automation deliveries are sinks. The core never knows which one it talks to.
 */
export interface RunSummary {
  runId: string
  /** `success` or an `error:…` code (SPEC §8.2 / §10). */
  status: RunEndStatus
  /** The final reply text (empty when the run failed before any). */
  reply: string
  provider: ProviderName
  model: string
  sessionId: string | null
  costUsd: number | null
  tokens: number | null
  /** A sentence for the user when the run failed. */
  error: string | null
}

export type ChatEvent =
  /** The message has to wait behind a running one; `position` 1 = next. */
  | { type: 'queued', entryId: string, position: number }
  /** A queued message starts now (remove its indicator). */
  | { type: 'dequeued', entryId: string }
  /** A queued message was dropped: cancelled, or the chat was aborted. */
  | { type: 'discarded', entryId: string, why: DiscardReason }
  | { type: 'run_started', runId: string, provider: ProviderName, model: string }
  /** A live event of the CLI: text delta, thinking, tool use, status. */
  | { type: 'cli', runId: string, event: Exclude<CliEvent, { type: 'result' }> }
  /**
   * The run's CLI attempt ended without its result (killed, e.g. by the OOM killer, or its session
   * gone) and the run starts a new attempt with a fresh session: what the attempt streamed is not part
   * of the reply. A sink ends what it showed of it (Telegram: kept, marked as cut off) and shows the
   * new attempt's text apart from it. Followed by a `notice` saying so, then the new attempt's events.
   */
  | { type: 'retrying', runId: string }
  /**
   * The CLI reported its final reply (its result event); the run is not over yet (the process still
   * exits, the session is recorded). A sink may show the final text now; `result` follows.
   */
  | { type: 'reply', runId: string, text: string }
  /** Something to tell the user that is not the agent's reply (recovering, age warning, errors). */
  | { type: 'notice', text: string, level: 'info' | 'warn' | 'error' }
  /** A command's answer. */
  | { type: 'command', name: string, reply: CommandReply }
  /** The run ended; `summary.reply` holds the exact final text. */
  | { type: 'result', summary: RunSummary }
  /** An automation's result for this chat (SPEC §8): a cron job, a `cron_task` hook, or the heartbeat. */
  | DeliveryEvent
  /** The run asks the user to approve a tool (permission_mode "ask", src/core/approvals.ts). */
  | { type: 'approval', request: ApprovalRequest }
  /** That request was answered, timed out, or its run ended. */
  | { type: 'approval_settled', request: ApprovalRequest, outcome: ApprovalOutcome, by: string | null }

/**
 * What an automation delivers to a chat. `text` is the agent's reply (Markdown, may hold
 * `<file:…>` tags and `[button:…]` markers like any reply) when `status` is `success`; otherwise a
 * sentence saying what failed. `title` is the job's or hook's title (null for the heartbeat).
 */
export interface DeliveryEvent {
  type: 'delivery'
  source: 'cron' | 'webhook' | 'heartbeat'
  /** The job or hook id (null for the heartbeat). */
  ref: string | null
  title: string | null
  text: string
  status: RunEndStatus
  runId: string | null
}

export interface ChatSink {
  /** Must not throw; a sink that fails logs and drops the event. */
  emit: (event: ChatEvent) => void
}

/** One sink that forwards to several (e.g. the HTTP caller and the chat's Telegram). */
export function fanOut (sinks: Array<ChatSink | null | undefined>): ChatSink {
  const targets = sinks.filter((s): s is ChatSink => s != null)
  return {
    emit (event) {
      for (const sink of targets) {
        try { sink.emit(event) } catch {}
      }
    }
  }
}

export const nullSink: ChatSink = { emit () {} }

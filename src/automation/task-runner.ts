import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { CliExecutor } from '../providers/cli-executor.ts'
import type { Limiter } from '../core/limiter.ts'
import { ClaimRefused, type ClaimGate } from '../claims.ts'
import type { RunOutcome } from '../providers/runner.ts'
import type { RunEndStatus, RunLog } from '../core/run-log.ts'
import { syncRuleFiles } from '../home/seed.ts'
import type { DependencyQueue } from './dependency-queue.ts'
import { deliverToAllowedUsers, type SinkLookup } from './delivery.ts'
import { resolveTaskOverrides, type ResolvedTaskRun } from './overrides.ts'
import { isQuiet, resolveQuietWindow } from './quiet-hours.ts'
import { resolveTaskFolder } from './task-folder.ts'
import type { RunTask, TaskRunRequest, TaskRunResult } from './task-run-types.ts'
import type { ProviderName } from '../models.ts'
import { expiredText, type Approvals, type ApprovalRun } from '../core/approvals.ts'

/**
 * Isolated task runs (SPEC §8) for cron jobs and `cron_task` webhooks. In order: the quiet window
 * (task's, else the cron-wide `cron.quiet_*`, in the user's zone; none by default) → `skipped:quiet_hours`; the overrides against
 * the live config → `error:unknown_model` / `error:invalid_override`; the shared dependency queue;
 * the task folder → `error:folder_missing` (cron) / `error:no_task_folder` (webhook); then one fresh
 * CLI run in that folder (no resume, `--no-session-persistence`, the global run limit, `cli_timeout`).
 * Every outcome is one run-history record; every outcome except a skip is delivered to the allowed
 * users' chats. A failure is the task's result, never an exception of the service.
 */

export interface TaskRunnerDeps {
  config: () => Config
  /** `workspace/cron_tasks`. */
  cronTasksDir: string
  executor: CliExecutor
  /** Where a task without a claim of its own (cron) gets one. */
  claims: Pick<ClaimGate, 'claim'>
  limiter: Limiter
  runs: RunLog
  dependencies: DependencyQueue
  clock: Clock
  logger: Logger
  /** The user's zone (quiet hours). */
  timezone: () => string
  /** The chat's default sink (Telegram), or null. */
  sinks: SinkLookup
  /**
   * Tool approvals: a task in `permission_mode: "ask"` (its own, else the global one) asks the chats
   * it reports to (ADR 0029). Absent, such a run asks nobody and Claude's print mode denies.
   */
  approvals?: Pick<Approvals, 'openRun'>
  /** Masks live secrets in the result text (the commands of requests nobody answered). */
  mask?: (text: string) => string
  /** Keeps CLAUDE.md/AGENTS.md of the folder identical after a run (default: `syncRuleFiles`). */
  syncRules?: (folder: string) => Promise<unknown>
}

export interface TaskRunner {
  runTask: RunTask
  /** Tasks accepted and not yet finished (waiting or running). */
  readonly pending: number
  /** Shutdown: tasks still waiting end as `error:aborted`, running ones are stopped. Nothing is delivered. */
  abortAll: () => void
  /** Resolves once every task has ended, or after `timeoutMs`. */
  drain: (timeoutMs: number) => Promise<void>
}

const NOT_STARTED_REPLAYED = 'ductor stopped before the task could run; it runs after the next start.'

export function createTaskRunner (deps: TaskRunnerDeps): TaskRunner {
  const shutdown = new AbortController()
  const pending = new Set<Promise<unknown>>()
  const syncRules = deps.syncRules ?? (async (folder: string) => await syncRuleFiles(folder, { maxDepth: 2 }))

  const finishWith = async (req: TaskRunRequest, status: RunEndStatus, error: string | null, extra: { provider?: ProviderName | null, model?: string | null } = {}): Promise<TaskRunResult> => {
    const run = await deps.runs.record({ id: req.runId, kind: req.kind, ref: req.ref, chat_id: null, provider: extra.provider ?? null, model: extra.model ?? null, status, error })
    if (!status.startsWith('skipped:')) deliver(req, status, error ?? '', run.id)
    return { status, runId: run.id, reply: '', error }
  }

  const deliver = (req: TaskRunRequest, status: RunEndStatus, text: string, runId: string | null): void => {
    if (shutdown.signal.aborted) return
    const reached = deliverToAllowedUsers(deps.sinks, deps.config().allowed_user_ids, { type: 'delivery', source: req.kind, ref: req.ref, title: req.title, text, status, runId }, deps.logger)
    deps.logger.debug({ kind: req.kind, ref: req.ref, chats: reached }, 'task result delivered')
  }

  async function execute (req: TaskRunRequest, target: ResolvedTaskRun, log: Logger): Promise<TaskRunResult> {
    let folder: string
    try {
      folder = await resolveTaskFolder(deps.cronTasksDir, req.taskFolder)
    } catch (err) {
      const status = req.kind === 'webhook' ? 'error:no_task_folder' : 'error:folder_missing'
      log.warn({ taskFolder: req.taskFolder, status }, 'task folder missing')
      return await finishWith(req, status, `The task folder "${req.taskFolder}" is missing: ${(err as Error).message}.`, { provider: target.provider, model: target.model })
    }
    const signal = shutdown.signal
    let release: (() => void) | undefined
    // A webhook delivery (it comes with its inbox claim) that a stop or a crash catches before its CLI
    // started is run again by the next start. So it is recorded only once it has a run slot: recorded
    // while it waited, the next start would close that record as `error:interrupted` and the replay
    // record a run of its own, two rows for one delivery and a report of a cut-off run that was not
    // cut off. A cron run is not run again: it is recorded while it waits, its one report of a crash.
    if (req.claim !== undefined) {
      try {
        release = await deps.limiter.acquire(signal)
      } catch {
        log.info('task not started: ductor stopped while it waited for a run slot; the next start runs it')
        return { status: 'error:aborted', runId: null, reply: '', error: NOT_STARTED_REPLAYED }
      }
    }
    let run: Awaited<ReturnType<typeof deps.runs.start>>
    try {
      run = await deps.runs.start({ id: req.runId, kind: req.kind, ref: req.ref, chat_id: null, provider: target.provider, model: target.model })
    } catch (err) {
      release?.()
      throw err
    }
    let outcome: RunOutcome | undefined
    let refused: ClaimRefused | undefined
    let approval: ApprovalRun | undefined
    if (target.permissionMode === 'ask' && target.provider === 'claude' && deps.approvals !== undefined) {
      // The chats the result is delivered to are the ones asked (SPEC §8.1: every allowed user's).
      const chatIds = [...new Set(deps.config().allowed_user_ids)].map(String)
      approval = deps.approvals.openRun({ runId: run.id, chatIds, source: { kind: req.kind, ref: req.ref, title: req.title } })
    }
    try {
      release ??= await deps.limiter.acquire(signal)
      outcome = await deps.executor.execute({
        runId: run.id,
        chatId: `${req.kind}:${req.ref}`,
        provider: target.provider,
        model: target.model ?? '',
        prompt: req.prompt,
        resumeSessionId: null,
        noSessionPersistence: true,
        cwd: folder,
        reasoningEffort: target.reasoningEffort ?? undefined,
        cliParameters: target.cliParameters,
        permissionMode: target.permissionMode,
        ...(approval !== undefined ? { approvalToken: approval.token } : {}),
        onEvent: () => {},
        signal,
        claim: req.claim ?? deps.claims.claim()
      })
    } catch (err) {
      if (err instanceof ClaimRefused) {
        refused = err
        log.info({ runId: run.id, reason: err.reason }, 'task run not started: its claim was refused')
      } else if (!signal.aborted) log.error({ err, runId: run.id }, 'task run failed')
    } finally {
      approval?.close()
      release?.()
    }

    let status: RunEndStatus = outcome?.status ?? (signal.aborted || refused !== undefined ? 'error:aborted' : 'error:internal')
    if (status === 'error:folder_missing' && req.kind === 'webhook') status = 'error:no_task_folder'
    const reply = outcome?.result?.text.trim() ?? ''
    // "Deny and stop" ends Claude's turn with an error result (rc 1, `aborted_tools`): the user stopped it.
    const stoppedByUser = approval?.stopped === true && outcome !== undefined && status !== 'success'
    if (stoppedByUser) status = 'error:aborted'
    // A request nobody answered was denied at the timeout: the task did not do all it was asked (ADR 0029).
    const unanswered = approval !== undefined && approval.timedOut > 0 && status === 'success'
    if (unanswered) status = 'error:approval_timeout'
    if (status === 'success' && reply === '' && req.kind === 'webhook') status = 'error:no_response'
    const error = status === 'success'
      ? null
      : stoppedByUser
        ? 'Stopped: you denied a tool request and stopped the run.'
        : unanswered && approval !== undefined
          ? expiredText(approval.expired, deps.config().approvals.timeout_seconds, deps.mask)
          : status === 'error:no_response'
            ? 'The task ended without a reply.'
            : (outcome?.userMessage ?? (refused !== undefined ? `${refused.message}${refused.replayed ? '; it runs after the next start' : ''}.` : 'The task failed; see the service log.'))
    await deps.runs.finish(run.id, {
      status,
      cost_usd: outcome?.result?.costUsd ?? null,
      tokens: outcome?.result?.tokens.total ?? null,
      error,
      reply
    })
    await syncRules(folder).catch((err: unknown) => log.warn({ err, folder }, 'could not sync the task folder\'s rule files'))
    log.info({ runId: run.id, status, durationMs: outcome?.durationMs }, 'task run ended')
    const text = status === 'success'
      ? (reply === '' ? 'The task finished without a reply.' : reply)
      : unanswered && reply !== '' ? `${error ?? status}\n\nThe agent's reply:\n\n${reply}` : (error ?? status)
    deliver(req, status, text, run.id)
    return { status, runId: run.id, reply, error }
  }

  async function runTask (req: TaskRunRequest): Promise<TaskRunResult> {
    const log = deps.logger.child({ task: req.kind, ref: req.ref })
    const config = deps.config()
    if (req.ignoreQuietHours !== true) {
      const window = resolveQuietWindow({ quiet_start: req.quietStart, quiet_end: req.quietEnd }, config.cron)
      if (window !== null && isQuiet(deps.clock.now(), deps.timezone(), window.start, window.end)) {
        log.info({ quietStart: window.start, quietEnd: window.end }, 'task skipped: quiet hours')
        return await finishWith(req, 'skipped:quiet_hours', null)
      }
    }
    const resolved = resolveTaskOverrides(req.overrides, config)
    if (!resolved.ok) {
      const modelOnly = resolveTaskOverrides({ ...req.overrides, model: null }, config).ok
      const status = modelOnly ? 'error:unknown_model' : 'error:invalid_override'
      log.warn({ status, problem: resolved.error }, 'task not run: its overrides do not work')
      return await finishWith(req, status, `The task's settings do not work: ${resolved.error}.`)
    }
    try {
      return await deps.dependencies.run(req.dependency, async () => await execute(req, resolved.value, log), { signal: shutdown.signal })
    } catch (err) {
      if (!shutdown.signal.aborted) throw err
      // A webhook delivery waiting for its dependency is run again by the next start: no record (see execute).
      if (req.claim !== undefined) return { status: 'error:aborted', runId: null, reply: '', error: NOT_STARTED_REPLAYED }
      return await finishWith(req, 'error:aborted', 'ductor stopped before the task could run.')
    }
  }

  return {
    runTask (req) {
      const p = runTask(req)
      pending.add(p)
      p.finally(() => pending.delete(p)).catch(() => {})
      return p
    },
    get pending () { return pending.size },
    abortAll () { shutdown.abort(new Error('ductor is shutting down')) },
    async drain (timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([...pending]),
        new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs) })
      ])
      clearTimeout(timer)
    }
  }
}

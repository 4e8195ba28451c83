import type { ChatRunDeps } from '../core/chat-run.ts'
import type { Orchestrator } from '../core/orchestrator.ts'
import type { ProcessRegistry } from '../providers/process-registry.ts'
import { cleanWorkspaceFiles } from './cleanup.ts'
import { createCronControl, type CronControl } from './cron-control.ts'
import { createCronPlanner } from './cron-planner.ts'
import { createCronStore } from './cron-store.ts'
import { createDependencyQueue, type DependencyQueue } from './dependency-queue.ts'
import { createHeartbeat } from './heartbeat.ts'
import { createAutomationScheduler, type AutomationScheduler } from './scheduler.ts'
import { createTaskRunner } from './task-runner.ts'
import type { RunTask } from './task-run-types.ts'

/** The automation part (SPEC §8), decorated as `app.automation`. Nothing runs until `scheduler.start()`. */
export interface Automation {
  runTask: RunTask
  dependencies: DependencyQueue
  cron: CronControl
  scheduler: AutomationScheduler
  /** Shutdown, first step: stop the loop (no new tick starts; a running one goes on). */
  stop: () => Promise<void>
  /** Shutdown, after the intake stopped: cancel waiting tasks, abort running ones. */
  abort: () => void
  /** Shutdown, after the processes are gone: wait (at most `timeoutMs`) for runs to record their end. */
  drain: (timeoutMs: number) => Promise<void>
}

export interface AutomationOptions {
  /** What chat runs need (the heartbeat runs inside chat sessions); its executor and limiter are shared with tasks. */
  chat: ChatRunDeps
  orchestrator: Pick<Orchestrator, 'lanes' | 'defaultSink'>
  registry: Pick<ProcessRegistry, 'sweepStale'>
  /** Tick interval of the loop (default 1000 ms). */
  tickMs?: number
  /** Masks live secrets in task results ductor writes itself. */
  mask?: (text: string) => string
  /** The runs the last process died under (the run history found them `running` at open). */
  interruptedAtOpen?: () => ReadonlyArray<{ kind: string, ref: string | null, started_at: string, ended_at: string | null }>
}

/** Loads `cron_jobs.json` and wires the task runner, heartbeat, cleanup and scheduler. */
export async function createAutomation (opts: AutomationOptions): Promise<Automation> {
  const { chat, orchestrator } = opts
  const { paths, clock } = chat
  const logger = chat.logger.child({ component: 'automation' })
  const sinks = (chatId: string): ReturnType<typeof orchestrator.defaultSink> => orchestrator.defaultSink(chatId)

  const store = createCronStore({ path: paths.cronJobs, logger, clock })
  const loaded = await store.load()
  logger.info({ jobs: loaded.count, status: loaded.status }, 'cron jobs loaded')
  // A cron run the last process died under (kill -9, power cut) is the job's last run: its
  // `error:interrupted` goes to cron_jobs.json, as any other result does (the Python version reads it too).
  for (const run of opts.interruptedAtOpen?.() ?? []) {
    const job = run.kind === 'cron' && run.ref !== null ? store.get(run.ref) : undefined
    if (job === undefined || (job.last_run_at !== null && Date.parse(job.last_run_at) >= Date.parse(run.started_at))) continue
    await store.recordRun(job.id, { status: 'error:interrupted', at: Date.parse(run.ended_at ?? run.started_at) })
  }
  const planner = createCronPlanner({ logger })
  const dependencies = createDependencyQueue()
  const tasks = createTaskRunner({
    config: chat.config,
    cronTasksDir: paths.cronTasks,
    executor: chat.cli,
    claims: chat.claims,
    limiter: chat.limiter,
    runs: chat.runs,
    dependencies,
    clock,
    logger: logger.child({ part: 'tasks' }),
    timezone: chat.timezone,
    sinks,
    ...(chat.approvals !== undefined ? { approvals: chat.approvals } : {}),
    ...(opts.mask !== undefined ? { mask: opts.mask } : {})
  })
  const heartbeat = createHeartbeat({ chat, lanes: orchestrator.lanes, sinks, logger: logger.child({ part: 'heartbeat' }) })
  const scheduler = createAutomationScheduler({
    config: chat.config,
    clock,
    logger,
    timezone: chat.timezone,
    cronStore: store,
    planner,
    runTask: tasks.runTask,
    heartbeatRound: heartbeat.runRound,
    cleanup: async () => {
      const c = chat.config().cleanup
      const report = await cleanWorkspaceFiles({
        telegramFilesDir: paths.telegramFiles,
        outputToUserDir: paths.outputToUser,
        telegramFilesDays: c.telegram_files_days,
        outputToUserDays: c.output_to_user_days,
        now: clock.now(),
        timezone: chat.timezone(),
        logger
      })
      logger.info(report, 'daily cleanup done')
    },
    sweepStale: async (maxAgeMs) => await opts.registry.sweepStale(maxAgeMs),
    tickMs: opts.tickMs
  })
  scheduler.syncPlanner()
  const cron = createCronControl({ store, planner, scheduler, clock, timezone: chat.timezone })

  return {
    runTask: tasks.runTask,
    dependencies,
    cron,
    scheduler,
    async stop () { await scheduler.stop() },
    abort () { tasks.abortAll() },
    async drain (timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all([scheduler.idle(), tasks.drain(timeoutMs)]),
        new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs) })
      ])
      clearTimeout(timer)
    }
  }
}

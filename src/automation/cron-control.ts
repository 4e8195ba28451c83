import type { Clock } from '../clock.ts'
import { nextRuns, resolveTimezone } from './cron-plan.ts'
import type { CronPlanner, DueRun } from './cron-planner.ts'
import type { CronStore } from './cron-store.ts'
import type { AutomationScheduler } from './scheduler.ts'
import type { TaskRunResult } from './task-run-types.ts'

/** What the admin API, `/api/status` and the Telegram `/cron` panel need of cron (`app.automation.cron`). */
export interface CronControl {
  /** `cron_jobs.json`: list, get, create, update, remove (see cron-store.ts). */
  store: CronStore
  /** The zone a job runs in: its own, else the user's (`user_timezone` → $TZ → host → UTC). */
  zoneOf: (job: { timezone?: string | null }) => string
  /**
   * The next `n` (default 5) run instants (ms) of a job, or of a schedule being previewed, in its
   * zone, after now. Throws `bad_request` for an invalid schedule.
   */
  nextRuns: (job: { schedule: string, timezone?: string | null }, n?: number) => number[]
  /** The planned next run of an enabled job; null when disabled, unknown or never. */
  nextRunOf: (id: string) => number | null
  /** The soonest planned runs over all enabled jobs (for /api/status). */
  upcoming: (limit: number) => DueRun[]
  /**
   * Starts job `id` now (quiet hours do not apply; its dependency does). Returns at once; `done`
   * settles with the run's result; `runId` is the id its run-history record gets (once it starts). Throws `not_found`, or `conflict` while the job is running.
   */
  runNow: (id: string) => { runId: string, done: Promise<TaskRunResult> }
  /** Ids of the jobs running now. */
  running: () => string[]
}

export function createCronControl (deps: {
  store: CronStore
  planner: CronPlanner
  scheduler: AutomationScheduler
  clock: Clock
  timezone: () => string
}): CronControl {
  const { store, planner, scheduler } = deps
  const zoneOf = (job: { timezone?: string | null }): string => resolveTimezone(job.timezone, deps.timezone())
  return {
    store,
    zoneOf,
    nextRuns: (job, n = 5) => nextRuns(job.schedule, zoneOf(job), deps.clock.now(), n),
    nextRunOf (id) {
      scheduler.syncPlanner()
      return planner.nextRunOf(id)
    },
    upcoming (limit) {
      scheduler.syncPlanner()
      return planner.upcoming(limit)
    },
    runNow: (id) => scheduler.runJobNow(id),
    running: () => scheduler.running()
  }
}

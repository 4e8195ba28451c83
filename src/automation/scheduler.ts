import { AsyncTask, SimpleIntervalJob } from 'toad-scheduler'
import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import { newRunId } from '../store/run-history.ts'
import { DuctorError, ErrorCodes } from '../errors.ts'
import type { Logger } from '../logger-types.ts'
import { isCleanupDue, cleanupDayKey } from './cleanup.ts'
import { toPlanEntries } from './cron-plan.ts'
import type { CronPlanner, DueRun } from './cron-planner.ts'
import type { CronJob } from './cron-schema.ts'
import type { CronStore } from './cron-store.ts'
import type { RunTask, TaskRunRequest, TaskRunResult } from './task-run-types.ts'

/**
 * The automation loop (SPEC §8): one toad-scheduler interval job (`preventOverrun`) calls `tick()`,
 * which is cheap and never waits for a CLI run. Each tick: notices wall-clock gaps (suspend) and
 * then sweeps stale processes; picks up hand edits of `cron_jobs.json` every few seconds and
 * re-plans when the jobs or the user's zone changed; starts the cron jobs that are due; starts a
 * heartbeat round every `interval_minutes` (after a stale sweep); starts the daily cleanup. Every
 * part is guarded: a part that throws is logged and the others, and the loop, go on.
 *
 * A job never overlaps itself: a fire that comes while the job's previous run is still going
 * (or waiting for its dependency) is skipped and logged, not queued — a slow job cannot pile up
 * a backlog. Runs missed during a suspend collapse into one run at wake-up.
 *
 * No tick holds the event loop long, whatever the number of jobs (docs/benchmarks.md, P7): new and
 * changed jobs are planned a slice at a time (a few ms each, between event-loop turns once started;
 * a job whose run fell due while it waited still fires, late by the planning time), and when
 * hundreds of jobs fall due in the same second the tick starts a first slice and the rest follow
 * on the next event-loop turns.
 */

export interface SchedulerDeps {
  config: () => Config
  clock: Clock
  logger: Logger
  /** The user's zone (jobs without their own, cleanup). */
  timezone: () => string
  cronStore: Pick<CronStore, 'reload' | 'list' | 'get' | 'recordRun' | 'revision'>
  planner: CronPlanner
  runTask: RunTask
  /** One heartbeat round (see heartbeat.ts). */
  heartbeatRound: () => Promise<unknown>
  /** The daily cleanup, run now. */
  cleanup: () => Promise<unknown>
  /** Stops CLI processes older than `maxAgeMs` (the process registry). */
  sweepStale: (maxAgeMs: number) => Promise<number>
  /** Tick interval; default 1000 ms. */
  tickMs?: number
  /** How often `cron_jobs.json` is checked for hand edits; default 5000 ms. */
  reloadEveryMs?: number
  /** How often stale processes are swept besides before heartbeats and after gaps; default 60 s. */
  sweepEveryMs?: number
}

export interface TickReport {
  at: number
  /** Set when far more time passed since the last tick than the interval (suspend). */
  gapMs: number | null
  /** Cron jobs started by this tick. */
  started: string[]
  /** Due jobs not started because their previous run is still going. */
  overlapping: string[]
  heartbeat: boolean
  cleanup: boolean
  /** The parts that failed (logged). */
  errors: string[]
}

export interface AutomationScheduler {
  /** One pass of the loop (tests call it with a mock clock). Never rejects. */
  tick: () => Promise<TickReport>
  /** Starts the interval timer (idempotent). */
  start: () => void
  /** Stops the timer and waits for a tick in progress (runs already started go on). */
  stop: () => Promise<void>
  /** Resolves once every run, heartbeat round and cleanup started so far has ended. */
  idle: () => Promise<void>
  /** Brings the planner in line with the store now (also done by every tick). */
  syncPlanner: () => void
  /** Starts job `id` now, outside its schedule and quiet hours; `not_found`, or `conflict` while it runs. */
  runJobNow: (id: string) => { runId: string, done: Promise<TaskRunResult> }
  /** Ids of the cron jobs running (or waiting for their dependency) now. */
  running: () => string[]
  readonly started: boolean
}

/** The task run of a cron job (SPEC §8.2). */
function cronTaskRequest (job: CronJob): TaskRunRequest {
  return {
    kind: 'cron',
    ref: job.id,
    title: job.title,
    taskFolder: job.task_folder,
    prompt: job.agent_instruction,
    overrides: { provider: job.provider, model: job.model, reasoning_effort: job.reasoning_effort, cli_parameters: job.cli_parameters, permission_mode: job.permission_mode },
    quietStart: job.quiet_start,
    quietEnd: job.quiet_end,
    dependency: job.dependency
  }
}

/** The longest a slice of planning or starting cron jobs holds the event loop (ms)… */
const SLICE_MS = 4
/** …unless there are no more than this many to plan: then they are all planned at once. */
const SMALL_BATCH = 100
/** A slice starts at least this many due runs, whatever the time. */
const MIN_STARTS = 32
/** Due runs taken from the planner at a time. */
const TAKE_CHUNK = 64

export function createAutomationScheduler (deps: SchedulerDeps): AutomationScheduler {
  const { clock, logger } = deps
  const tickMs = deps.tickMs ?? 1000
  const reloadEveryMs = deps.reloadEveryMs ?? 5000
  const sweepEveryMs = deps.sweepEveryMs ?? 60_000
  const gapThresholdMs = Math.max(60_000, 10 * tickMs)
  const running = new Map<string, Promise<TaskRunResult>>()
  const inflight = new Set<Promise<unknown>>()
  let planned: { revision: number, timezone: string } | null = null
  let lastTickAt: number | null = null
  let previousTickAt: number | null = null
  let lastReloadAt = -Infinity
  let lastSweepAt = clock.now()
  let lastHeartbeatAt = clock.now()
  let heartbeatBusy = false
  // Never at start (SPEC §8.4): a home copied from the Python version keeps its old received files
  // until the first check_hour this service lives through. Started after today's check_hour, today
  // counts as done.
  let cleanupDay: string | null = (() => {
    const now = clock.now()
    const tz = deps.timezone()
    return isCleanupDue(now, tz, deps.config().cleanup.check_hour, null) ? cleanupDayKey(now, tz) : null
  })()
  let cleanupBusy = false
  let job: SimpleIntervalJob | null = null
  let currentTick: Promise<TickReport> | null = null
  /** Due runs taken from the planner and not started yet (a tick starts a slice; the pump the rest). */
  let backlog: DueRun[] = []
  let backlogHead = 0
  /** The instant of the last tick: the pump starts what was due by then. */
  let dueUntil = -Infinity
  let pumpHandle: NodeJS.Immediate | null = null
  let pumpDone: (() => void) | null = null

  const track = (p: Promise<unknown>): void => {
    inflight.add(p)
    p.finally(() => inflight.delete(p)).catch(() => {})
  }

  const staleAgeMs = (): number => 2 * deps.config().cli_timeout * 1000

  /**
   * New and changed jobs are planned from the last tick (`from`), so a run that fell due between
   * two ticks (the job was added or edited just before its minute) still fires.
   */
  function syncPlanner (from: number | null = lastTickAt): void {
    const timezone = deps.timezone()
    const revision = deps.cronStore.revision
    if (planned?.revision === revision && planned.timezone === timezone) return
    const now = clock.now()
    const after = from !== null && now - from <= gapThresholdMs ? Math.min(from, now) : now
    // Recorded now, planned a slice at a time: 10,000 new jobs would hold the loop for seconds.
    const changes = deps.planner.sync(toPlanEntries(deps.cronStore.list(), timezone), after, { defer: true })
    planned = { revision, timezone }
    if (changes.added + changes.removed + changes.changed > 0) logger.debug({ ...changes, pending: deps.planner.pending }, 'cron plan updated')
    ensurePump()
  }

  /** Plans a slice of the pending jobs; the pump plans the rest between event-loop turns (once started). */
  function planSlice (): void {
    if (deps.planner.pending === 0) return
    const all = deps.planner.pending <= SMALL_BATCH
    if (deps.planner.planPending(all ? Infinity : SLICE_MS, 1) > 0) ensurePump()
  }

  /** Starts one due run unless its job is gone, disabled or still running. */
  function startDue (due: DueRun, report: TickReport | null): void {
    const cronJob = deps.cronStore.get(due.id)
    if (cronJob === undefined || !cronJob.enabled) return
    if (running.has(due.id)) {
      report?.overlapping.push(due.id)
      logger.warn({ jobId: due.id, plannedAt: new Date(due.at).toISOString() }, 'cron job still running; this run is skipped')
      return
    }
    logger.info({ jobId: due.id, plannedAt: new Date(due.at).toISOString() }, 'cron job due')
    launch(due.id, cronTaskRequest(cronJob)).catch((err: unknown) => logger.error({ err, jobId: due.id }, 'cron job failed'))
    report?.started.push(due.id)
  }

  /**
   * Takes the runs due by the last tick from the planner and starts them: at least MIN_STARTS, then
   * more while SLICE_MS lasts. A minute at which a thousand jobs fall due is started over several
   * event-loop turns (the pump), milliseconds apart, instead of in one block.
   */
  function startSlice (report: TickReport | null): void {
    const began = performance.now()
    let done = 0
    for (;;) {
      if (backlogHead >= backlog.length) {
        backlog = deps.planner.takeDue(dueUntil, TAKE_CHUNK)
        backlogHead = 0
        if (backlog.length === 0) break
      }
      if (done >= MIN_STARTS && performance.now() - began >= SLICE_MS) break
      startDue(backlog[backlogHead++]!, report)
      done++
    }
    if (backlogHead < backlog.length) ensurePump()
  }

  function pumpWanted (): boolean {
    return backlogHead < backlog.length || (job !== null && deps.planner.pending > 0)
  }

  /** Works off the backlog and (once started) the pending plans, one slice per event-loop turn. */
  function ensurePump (): void {
    if (pumpHandle !== null || !pumpWanted()) return
    if (pumpDone === null) track(new Promise<void>((resolve) => { pumpDone = resolve }))
    const step = (): void => {
      pumpHandle = null
      try {
        if (backlogHead < backlog.length) startSlice(null)
        else if (job !== null) deps.planner.planPending(SLICE_MS)
      } catch (err) {
        logger.error({ err }, 'automation: planning or starting cron jobs failed; the loop goes on')
      }
      if (pumpWanted()) {
        pumpHandle = setImmediate(step)
      } else {
        pumpDone?.()
        pumpDone = null
      }
    }
    pumpHandle = setImmediate(step)
  }

  function stopPump (): void {
    if (pumpHandle !== null) clearImmediate(pumpHandle)
    pumpHandle = null
    pumpDone?.()
    pumpDone = null
  }

  function launch (id: string, request: TaskRunRequest): Promise<TaskRunResult> {
    const done = (async () => {
      try {
        const result = await deps.runTask(request)
        await deps.cronStore.recordRun(id, { status: result.status, at: clock.now() })
          .catch((err: unknown) => logger.error({ err, jobId: id }, 'could not record the cron run in cron_jobs.json'))
        return result
      } finally {
        running.delete(id)
      }
    })()
    running.set(id, done)
    track(done)
    return done
  }

  async function guarded (name: string, report: TickReport, part: () => Promise<void> | void): Promise<void> {
    try {
      await part()
    } catch (err) {
      report.errors.push(name)
      logger.error({ err, part: name }, 'automation tick: a part failed; the loop goes on')
    }
  }

  async function tickOnce (): Promise<TickReport> {
    const report: TickReport = { at: NaN, gapMs: null, started: [], overlapping: [], heartbeat: false, cleanup: false, errors: [] }
    let now = NaN
    await guarded('clock', report, () => {
      now = clock.now()
      report.at = now
      if (lastTickAt !== null && (now - lastTickAt > gapThresholdMs || now < lastTickAt - gapThresholdMs)) {
        report.gapMs = now - lastTickAt
        logger.warn({ gapMs: report.gapMs, expectedMs: tickMs }, 'wall-clock gap between automation ticks (suspend or clock change?)')
      }
      previousTickAt = lastTickAt
      lastTickAt = now
    })
    if (Number.isNaN(now)) return report
    const config = deps.config()

    await guarded('sweep', report, async () => {
      if (report.gapMs === null && now - lastSweepAt < sweepEveryMs) return
      lastSweepAt = now
      const stopped = await deps.sweepStale(staleAgeMs())
      if (stopped > 0) logger.warn({ stopped }, 'stopped stale CLI processes')
    })
    await guarded('reload', report, async () => {
      if (now - lastReloadAt < reloadEveryMs) return
      const previous = lastReloadAt
      lastReloadAt = now
      // Not behind a run-result write in progress (a multi-MB file with 10,000 jobs; the write reads
      // the file first anyway): then the next tick checks again.
      const result = await deps.cronStore.reload({ unlessBusy: true })
      if (result.status === 'busy') lastReloadAt = previous
    })
    await guarded('cron', report, () => {
      syncPlanner(previousTickAt)
      planSlice()
      dueUntil = now
      startSlice(report)
    })
    await guarded('heartbeat', report, () => {
      const hb = config.heartbeat
      if (!hb.enabled) {
        lastHeartbeatAt = now
        return
      }
      if (heartbeatBusy || now - lastHeartbeatAt < hb.interval_minutes * 60_000) return
      lastHeartbeatAt = now
      heartbeatBusy = true
      report.heartbeat = true
      track((async () => {
        try {
          const stopped = await deps.sweepStale(staleAgeMs())
          if (stopped > 0) logger.warn({ stopped }, 'stopped stale CLI processes before the heartbeat')
          await deps.heartbeatRound()
        } catch (err) {
          logger.error({ err }, 'heartbeat round failed')
        } finally {
          heartbeatBusy = false
        }
      })())
    })
    await guarded('cleanup', report, () => {
      const c = config.cleanup
      const tz = deps.timezone()
      if (!c.enabled || cleanupBusy || !isCleanupDue(now, tz, c.check_hour, cleanupDay)) return
      cleanupDay = cleanupDayKey(now, tz)
      cleanupBusy = true
      report.cleanup = true
      track((async () => {
        try {
          await deps.cleanup()
        } catch (err) {
          logger.error({ err }, 'daily cleanup failed')
        } finally {
          cleanupBusy = false
        }
      })())
    })
    return report
  }

  function tick (): Promise<TickReport> {
    const p = tickOnce()
    currentTick = p
    p.finally(() => { if (currentTick === p) currentTick = null }).catch(() => {})
    return p
  }

  return {
    tick,
    start () {
      if (job !== null) return
      const now = clock.now()
      lastHeartbeatAt = now
      lastSweepAt = now
      const task = new AsyncTask('automation-tick', async () => { await tick() }, (err) => { logger.error({ err }, 'automation tick failed') })
      job = new SimpleIntervalJob({ milliseconds: tickMs, runImmediately: true }, task, { id: 'automation', preventOverrun: true, unref: true })
      job.start()
      ensurePump()
      logger.info({ tickMs, pendingPlans: deps.planner.pending }, 'automation started')
    },
    async stop () {
      job?.stop()
      job = null
      await currentTick?.catch(() => {})
      // Due runs not started yet are dropped, as if their tick had not come.
      stopPump()
      backlog = []
      backlogHead = 0
    },
    async idle () {
      while (inflight.size > 0) await Promise.allSettled([...inflight])
    },
    syncPlanner: () => { syncPlanner() },
    runJobNow (id) {
      const cronJob = deps.cronStore.get(id)
      if (cronJob === undefined) throw new DuctorError(ErrorCodes.notFound, `no cron job with id "${id}"`)
      if (running.has(id)) throw new DuctorError(ErrorCodes.conflict, `cron job "${id}" is already running`)
      // The run's id is chosen now so the caller can answer it at once (the record itself is written
      // when the run starts, after its dependency queue).
      const runId = newRunId(clock.now())
      logger.info({ jobId: id, runId }, 'cron job started by hand')
      return { runId, done: launch(id, { ...cronTaskRequest(cronJob), ignoreQuietHours: true, runId }) }
    },
    running: () => [...running.keys()],
    get started () { return job !== null }
  }
}

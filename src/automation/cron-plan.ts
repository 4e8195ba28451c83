import { CronExpressionParser, type CronExpression } from 'cron-parser'
import { DuctorError, ErrorCodes } from '../errors.ts'
import { firstInstantOf, isValidTimezone, hostTimezone, wallClock } from './tz.ts'

/**
 * Pure cron planning. Schedules are standard 5-field expressions evaluated on the local wall clock
 * of a time zone. DST rules (SPEC §8.2):
 * - a local time that does not exist (spring-forward gap) is skipped: `30 2 * * *` does not run on
 *   that day; cron-parser itself would move it to 03:30, so we do not use its zone handling;
 * - a local time that occurs twice (fall-back) runs once, at its first occurrence: `0 * * * *` does
 *   not fire twice at the repeated hour.
 * We let cron-parser iterate wall-clock values in UTC (cheap, no DST) and map each candidate to its
 * first real instant ourselves ({@link firstInstantOf}).
 */

/** What the planner needs of a job: the expression and an already resolved, valid zone. */
export interface PlanEntry {
  id: string
  schedule: string
  timezone: string
}

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly'])
const MAX_CANDIDATES = 10_000
const parsed = new Map<string, CronExpression>()
const CHECK_FROM = new Date(Date.UTC(2000, 0, 1))

function expressionFor (schedule: string): CronExpression {
  let expr = parsed.get(schedule)
  if (expr === undefined) {
    // One parse per new schedule: the expression the check built is the one kept (the checks
    // used to parse it twice, the larger part of planning 10,000 jobs; docs/benchmarks.md, P7).
    const checked = checkSchedule(schedule)
    if ('problem' in checked) throw new DuctorError(ErrorCodes.badRequest, checked.problem)
    expr = checked.expr
    if (parsed.size >= 5_000) parsed.clear()
    parsed.set(schedule, expr)
  }
  return expr
}

/** The parsed expression of a usable 5-field schedule, or why it is not one. */
function checkSchedule (schedule: unknown): { expr: CronExpression } | { problem: string } {
  if (typeof schedule !== 'string' || schedule.trim() === '') return { problem: 'schedule must be a cron expression such as "0 9 * * *"' }
  const text = schedule.trim()
  if (text.startsWith('@')) {
    if (!NICKNAMES.has(text.toLowerCase())) return { problem: `schedule "${text}" is not supported; use 5 fields or one of ${[...NICKNAMES].join(' ')}` }
  } else if (text.split(/\s+/).length !== 5) {
    return { problem: `schedule "${text}" must have exactly 5 fields: minute hour day-of-month month day-of-week` }
  } else if (/h/i.test(text.replace(/\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)\b/gi, ''))) {
    // cron-parser reads `H` as a random value chosen anew at every parse, so the job would move at
    // every restart: refused (ADR 0013). A fixed minute does the same job.
    return { problem: `schedule "${text}": H (a hashed/random value) is not supported; write a fixed value instead, e.g. "17 * * * *"` }
  }
  try {
    // With a start date given, cron-parser does not ask the host's zone for "now" (a quarter of a
    // millisecond per parse, most of planning 10,000 jobs; docs/benchmarks.md, P7). Any fixed start
    // does for the check: a 5-field expression that fires at all fires every year or leap year.
    const expr = CronExpressionParser.parse(text, { tz: 'UTC', currentDate: CHECK_FROM })
    expr.next()
    return { expr }
  } catch (err) {
    return { problem: `schedule "${text}" is not a valid cron expression: ${(err as Error).message}` }
  }
}

/** Why `schedule` is not a usable 5-field cron expression, or null when it is. */
export function scheduleProblem (schedule: unknown): string | null {
  const checked = checkSchedule(schedule)
  return 'problem' in checked ? checked.problem : null
}

/**
 * The first run strictly after `after` (ms), or null when the expression never fires again.
 * Throws a `bad_request` DuctorError for an invalid expression.
 */
export function nextRun (schedule: string, tz: string, after: number): number | null {
  const expr = expressionFor(schedule)
  // Every run instant s > after has a wall time ≥ wall(after): first instants grow with wall time.
  expr.reset(new Date(wallClock(after, tz)))
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    let wall: number
    try {
      wall = expr.next().getTime()
    } catch {
      return null
    }
    const instant = firstInstantOf(wall, tz)
    // null: the local time falls in a DST gap (skipped). ≤ after: the second pass of a repeated
    // hour, whose first occurrence has already been.
    if (instant !== null && instant > after) return instant
  }
  return null
}

/** The next `n` runs after `after` (the admin API shows five). */
export function nextRuns (schedule: string, tz: string, after: number, n: number): number[] {
  const runs: number[] = []
  let cursor = after
  while (runs.length < n) {
    const at = nextRun(schedule, tz, cursor)
    if (at === null) break
    runs.push(at)
    cursor = at
  }
  return runs
}

/**
 * Why a job cannot run as written (a bad schedule, an unknown time zone), or null. Such a job is kept,
 * listed with this problem, and never run until it is fixed; a misspelt zone is never replaced by
 * the user's zone silently (issue 16).
 */
export function cronJobProblem (job: { id: string, schedule: string, timezone?: string | null }): string | null {
  const schedule = scheduleProblem(job.schedule)
  if (schedule !== null) return `${schedule}; the job does not run until it is fixed: ductor cron edit ${job.id} --schedule "…"`
  if (typeof job.timezone === 'string' && job.timezone !== '' && !isValidTimezone(job.timezone)) {
    return `timezone "${job.timezone}" is not a known IANA time zone (e.g. Europe/Berlin, UTC); the job does not run until it is fixed: ductor cron edit ${job.id} --timezone …`
  }
  return null
}

/**
 * The zone a job runs in: the first valid name of `candidates` (job timezone, `user_timezone`,
 * `$TZ`, host zone, in that order), else `UTC`. Empty and unknown names are skipped.
 */
export function resolveTimezone (...candidates: Array<string | null | undefined>): string {
  for (const tz of candidates) if (isValidTimezone(tz)) return tz
  return 'UTC'
}

/** The zone for jobs without their own: `user_timezone` → `$TZ` → host zone → UTC. */
export function defaultTimezone (userTimezone: string | null | undefined, envTz: string | null | undefined = process.env.TZ): string {
  // The host's zone only when needed: asking Intl for it costs about a millisecond, and chats ask
  // for the zone on every message (docs/benchmarks.md, P5).
  if (isValidTimezone(userTimezone)) return userTimezone
  if (isValidTimezone(envTz)) return envTz
  return hostTimezone()
}

/** Plan entries for the enabled jobs, each in its own valid zone or `fallbackTimezone`. */
export function toPlanEntries (
  jobs: Iterable<{ id: string, schedule: string, timezone?: string | null, enabled?: boolean }>,
  fallbackTimezone: string
): PlanEntry[] {
  const entries: PlanEntry[] = []
  for (const job of jobs) {
    if (job.enabled === false) continue
    // A job with a zone that does not exist is not planned (it is listed with its problem instead).
    if (typeof job.timezone === 'string' && job.timezone !== '' && !isValidTimezone(job.timezone)) continue
    entries.push({ id: job.id, schedule: job.schedule, timezone: resolveTimezone(job.timezone, fallbackTimezone) })
  }
  return entries
}

/**
 * The entries with a run in (lastTick, now]. Reference implementation, O(n) parses per call; the
 * scheduler loop uses {@link createCronPlanner} which keeps next runs precomputed.
 * Entries with an invalid schedule are never due.
 */
export function dueJobs<T extends PlanEntry> (entries: readonly T[], lastTick: number, now: number): T[] {
  return entries.filter((entry) => {
    try {
      const at = nextRun(entry.schedule, entry.timezone, lastTick)
      return at !== null && at <= now
    } catch {
      return false
    }
  })
}

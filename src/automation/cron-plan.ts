import { CronExpressionParser, type CronExpression } from 'cron-parser'
import { DuctorError, ErrorCodes } from '../errors.ts'
import { firstInstantOf, gapEnd, instantsOf, isValidTimezone, hostTimezone, offsetAt, wallClock } from '../tz.ts'

/**
 * Pure cron planning. Schedules are standard 5-field expressions evaluated on the local wall clock
 * of a time zone. DST rules (SPEC §8.2), as classic (ISC/Vixie) cron has them:
 * - a **fixed-time** job (neither the minute nor the hour field starts with `*`) whose local time does
 *   not exist that day (spring-forward gap) runs once, at the end of the gap: `30 2 * * *` runs at
 *   03:00 in Berlin on 29 March 2026; in a repeated (fall-back) hour it runs once, at the first pass;
 * - an **interval** job (every 15 minutes, `0 * * * *`: the minute or hour field starts with `*`) runs on
 *   real elapsed time: local times in the gap do not exist and are skipped (the spacing stays 15
 *   minutes of real time), and in the repeated hour it runs in both passes (no two-hour gap).
 * We let cron-parser iterate wall-clock values in UTC (cheap, no DST) and map each candidate to real
 * instants ourselves (tz.ts); cron-parser's own zone handling does neither rule.
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
const intervals = new Map<string, boolean>()
const HOUR = 3_600_000
/** Wider than any DST shift (one hour; 30 minutes on Lord Howe; two hours at most in history). */
const SHIFT_BOUND = 3 * HOUR

/** Classic cron's "wildcard" job: its minute or hour field starts with `*` (`@hourly` too). */
function isIntervalSchedule (schedule: string): boolean {
  let interval = intervals.get(schedule)
  if (interval === undefined) {
    const text = schedule.trim().toLowerCase()
    if (text.startsWith('@')) interval = text === '@hourly'
    else {
      const [minute = '', hour = ''] = text.split(/\s+/)
      interval = minute.startsWith('*') || hour.startsWith('*')
    }
    if (intervals.size >= 5_000) intervals.clear()
    intervals.set(schedule, interval)
  }
  return interval
}
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
    // every restart: refused (ADR 0017). A fixed minute does the same job.
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
  const interval = isIntervalSchedule(schedule)
  const wallAfter = wallClock(after, tz)
  // Near a fall-back (the offset drops within SHIFT_BOUND of `after`), an interval job's second pass
  // of the repeated hour has local times *before* wall(after): start the walk that much earlier and
  // take the earliest instant found. Everywhere else the first instant found is the earliest.
  const fold = interval && offsetAt(after - SHIFT_BOUND, tz) > offsetAt(after + SHIFT_BOUND, tz)
  expr.reset(new Date(fold ? wallAfter - SHIFT_BOUND : wallAfter))
  let best: number | null = null
  let bestWall = 0
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    let wall: number
    try {
      wall = expr.next().getTime()
    } catch {
      break
    }
    if (best !== null && wall > bestWall + SHIFT_BOUND) break
    for (const instant of instantsFor(wall, tz, interval)) {
      if (instant > after && (best === null || instant < best)) {
        best = instant
        bestWall = wall
      }
    }
    if (best !== null && !fold) return best
  }
  return best
}

/**
 * The real instants at which a run planned for local time `wall` happens: an interval job at every
 * instant with that local time (none in a gap, both passes of a repeated hour), a fixed-time job at
 * the first one, or at the end of the gap when the local time does not exist.
 */
function instantsFor (wall: number, tz: string, interval: boolean): number[] {
  if (interval) return instantsOf(wall, tz)
  const first = firstInstantOf(wall, tz)
  return [first ?? gapEnd(wall, tz)]
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

/**
 * The daily session boundary (`daily_reset_hour` in the user's IANA zone), computed with Intl only.
 * DST: when the reset hour does not exist that day (clocks jump over it) the boundary is the jump
 * itself, the first instant the local clock reads past it; when the hour happens twice (clocks go
 * back) the boundary is its first occurrence, so there is one boundary per local day.
 */

const day = 24 * 60 * 60 * 1000

interface WallTime { year: number, month: number, day: number, hour: number, minute: number, second: number }

function wallTimeAt (instant: number, timeZone: string): WallTime {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric'
  })
  const parts: Record<string, number> = {}
  for (const p of format.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0 }
}

/** Offset of the zone at `instant`, in ms (local wall time minus UTC). */
function offsetAt (instant: number, timeZone: string): number {
  const w = wallTimeAt(instant, timeZone)
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instant / 1000) * 1000
}

/** The first instant at which the wall clock in `timeZone` reads `year-month-day hour:00` or later. */
export function zonedHourToInstant (year: number, month: number, dayOfMonth: number, hour: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, dayOfMonth, hour)
  // The offsets a day before and after cover both sides of any transition near this wall time.
  const before = offsetAt(wall - day, timeZone)
  const after = offsetAt(wall + day, timeZone)
  const matching = [wall - before, wall - after].filter((t) => t + offsetAt(t, timeZone) === wall)
  if (matching.length > 0) return Math.min(...matching)
  // The wall time falls in a gap: subtracting the earlier offset lands on the jump.
  return wall - before
}

/** The most recent daily boundary at or before `now`. */
export function lastDailyBoundary (now: number, hour: number, timeZone: string): number {
  const today = wallTimeAt(now, timeZone)
  const boundary = zonedHourToInstant(today.year, today.month, today.day, hour, timeZone)
  if (boundary <= now) return boundary
  const yesterday = new Date(Date.UTC(today.year, today.month - 1, today.day - 1))
  return zonedHourToInstant(yesterday.getUTCFullYear(), yesterday.getUTCMonth() + 1, yesterday.getUTCDate(), hour, timeZone)
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone (timeZone: string): boolean {
  try {
    // eslint-disable-next-line no-new
    new Intl.DateTimeFormat('en-US', { timeZone })
    return timeZone !== ''
  } catch {
    return false
  }
}

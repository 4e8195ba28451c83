/**
 * Wall-clock arithmetic in IANA time zones, built on `Intl` only: the one time-zone module (config
 * validation, cron schedules, quiet hours, cleanup, the daily session reset, the Telegram clock).
 *
 * A "wall" value is a local date-time encoded as if it were UTC milliseconds: the wall time
 * 2026-03-29 02:30 in Europe/Berlin is `Date.UTC(2026, 2, 29, 2, 30)`. That lets plain date maths
 * (and cron-parser in UTC) work on local fields, and converting back to real instants is the one
 * place where DST gaps and repeated hours are decided.
 */

import { readlinkSync } from 'node:fs'

const formatters = new Map<string, Intl.DateTimeFormat>()
const validity = new Map<string, boolean>()

/**
 * UTC needs no `Intl`: its wall clock is the instant itself. The first `Intl` object a process makes
 * loads ICU's locale data (+6 to 8 MB RSS, ADR 47), and on a host that runs in UTC (most servers and
 * containers) the idle service would make one only to learn that nothing needs converting.
 */
const UTC = 'UTC'

function formatterFor (tz: string): Intl.DateTimeFormat {
  let fmt = formatters.get(tz)
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
    formatters.set(tz, fmt)
  }
  return fmt
}

/** True when `tz` names a time zone this Node knows (IANA names, `UTC`). Empty strings are not. */
export function isValidTimezone (tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.trim() === '' || tz !== tz.trim()) return false
  if (tz === UTC) return true
  let ok = validity.get(tz)
  if (ok === undefined) {
    try {
      formatterFor(tz)
      ok = true
    } catch {
      ok = false
    }
    validity.set(tz, ok)
  }
  return ok
}

/**
 * The canonical spelling of a zone this Node knows (`utc` → `UTC`, `europe/berlin` → `Europe/Berlin`),
 * or null for one it does not. Zones are stored this way, whatever the user typed.
 */
export function canonicalTimezone (tz: unknown): string | null {
  if (!isValidTimezone(tz)) return null
  if (tz === UTC) return UTC
  return formatterFor(tz).resolvedOptions().timeZone
}

let host: { envTz: string | undefined, zone: string } | null = null

/** The host's zone as Node sees it (honours `$TZ`); `UTC` when it cannot tell. */
export function hostTimezone (): string {
  // Remembered per value of $TZ (which is what changes the host zone for Node).
  const envTz = process.env['TZ']
  if (host === null || host.envTz !== envTz) {
    const tz = hostIsUtc(envTz) ? UTC : new Intl.DateTimeFormat().resolvedOptions().timeZone
    host = { envTz, zone: isValidTimezone(tz) ? tz : UTC }
  }
  return host.zone
}

/** The names V8 resolves to `UTC` (`Intl.DateTimeFormat().resolvedOptions().timeZone`). */
const UTC_ALIASES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'])

/**
 * True when the host's zone is UTC, told without `Intl`: `$TZ` names UTC, or (no `$TZ`)
 * `/etc/localtime` links to a UTC zone file; and either way Date's own local time agrees (offset 0 in
 * winter and summer). Anything else (another zone, a copied /etc/localtime, no such file) answers
 * false, and the caller asks `Intl` as before.
 */
function hostIsUtc (envTz: string | undefined): boolean {
  let name: string | undefined
  if (envTz !== undefined) name = envTz
  else {
    try {
      name = /\/zoneinfo\/(.+)$/.exec(readlinkSync('/etc/localtime'))?.[1]
    } catch {
      return false
    }
  }
  return name !== undefined && UTC_ALIASES.has(name) &&
    new Date(Date.UTC(2026, 0, 15)).getTimezoneOffset() === 0 && new Date(Date.UTC(2026, 6, 15)).getTimezoneOffset() === 0
}

/** The local wall-clock time of `instant` in `tz`, encoded as UTC milliseconds (see the module doc). */
export function wallClock (instant: number, tz: string): number {
  if (tz === UTC) return instant
  const ms = ((instant % 1000) + 1000) % 1000
  const parts = formatterFor(tz).formatToParts(new Date(instant - ms))
  let y = 0; let mo = 0; let d = 0; let h = 0; let mi = 0; let s = 0
  for (const p of parts) {
    switch (p.type) {
      case 'year': y = Number(p.value); break
      case 'month': mo = Number(p.value); break
      case 'day': d = Number(p.value); break
      case 'hour': h = Number(p.value); break
      case 'minute': mi = Number(p.value); break
      case 'second': s = Number(p.value); break
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) + ms
}

/** Offset of `tz` from UTC at `instant`, in milliseconds (Berlin in summer: +7 200 000). */
export function offsetAt (instant: number, tz: string): number {
  return wallClock(instant, tz) - instant
}

const DAY = 86_400_000

/**
 * The first real instant whose local time in `tz` is `wall`, or null when that local time does not
 * exist (it falls in a spring-forward gap). A local time that occurs twice (fall-back) gives the
 * earlier instant, so callers that only fire at first instants fire a repeated time once.
 */
export function firstInstantOf (wall: number, tz: string): number | null {
  // The offsets in force a day either side cover any single transition near `wall`.
  const offsets = new Set([offsetAt(wall - DAY, tz), offsetAt(wall + DAY, tz)])
  for (const o of [...offsets]) offsets.add(offsetAt(wall - o, tz))
  let best: number | null = null
  for (const o of offsets) {
    const candidate = wall - o
    if (wallClock(candidate, tz) === wall && (best === null || candidate < best)) best = candidate
  }
  return best
}

/** Local calendar fields of `instant` in `tz`. */
export function localParts (instant: number, tz: string): { year: number, month: number, day: number, hour: number, minute: number, dayKey: string } {
  const wall = new Date(wallClock(instant, tz))
  const year = wall.getUTCFullYear()
  const month = wall.getUTCMonth() + 1
  const day = wall.getUTCDate()
  const dayKey = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
  return { year, month, day, hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), dayKey }
}

/**
 * Every real instant whose local time in `tz` is `wall`, earliest first: none in a spring-forward
 * gap, two in a repeated (fall-back) hour, else one.
 */
export function instantsOf (wall: number, tz: string): number[] {
  const offsets = new Set([offsetAt(wall - DAY, tz), offsetAt(wall + DAY, tz)])
  for (const o of [...offsets]) offsets.add(offsetAt(wall - o, tz))
  const out: number[] = []
  for (const o of offsets) {
    const candidate = wall - o
    if (wallClock(candidate, tz) === wall && !out.includes(candidate)) out.push(candidate)
  }
  return out.sort((a, b) => a - b)
}

/**
 * For a local time that does not exist (it falls in a spring-forward gap): the instant the gap ends,
 * i.e. the first real instant whose local time is later than `wall` (02:30 in Berlin on the day
 * clocks spring forward → 03:00 CEST). Transitions fall on whole minutes.
 */
export function gapEnd (wall: number, tz: string): number {
  const before = offsetAt(wall - DAY, tz)
  const after = offsetAt(wall + DAY, tz)
  let lo = wall - Math.max(before, after) // local time < wall
  let hi = wall - Math.min(before, after) // local time > wall
  lo = Math.floor(lo / 60_000)
  hi = Math.ceil(hi / 60_000)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (wallClock(mid * 60_000, tz) > wall) hi = mid
    else lo = mid
  }
  return hi * 60_000
}

/**
 * The most recent instant at or before `now` when the clock in `tz` read `hour`:00 — the daily
 * session boundary (`daily_reset_hour`). When that hour does not exist on a day (clocks jump over it)
 * the boundary is the jump, the first instant the local clock reads past it; when it happens twice
 * (clocks go back) it is the first occurrence, so there is one boundary per local day.
 */
export function lastDailyBoundary (now: number, hour: number, tz: string): number {
  const today = new Date(wallClock(now, tz))
  for (const back of [0, 1]) {
    const wall = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - back, hour)
    const boundary = firstInstantOf(wall, tz) ?? gapEnd(wall, tz)
    if (boundary <= now) return boundary
  }
  // Unreachable: yesterday's boundary is always before now.
  return now
}

import { InvalidArgumentError } from 'commander'

/**
 * Option parsers shared by the client commands (`ductor cron`, `ductor webhook`). A bad value stops
 * the command before any request, with the option's name and what it accepts.
 */

/**
 * What an option parser returns for "none" (or "default"): the field is sent as null. Not null
 * itself, because commander stores a null that a parser returns as "" (and "" is not null to the
 * API: a cleared field must arrive as null). `pickFields` turns it into null.
 */
export const NONE: unique symbol = Symbol('none')
export type None = typeof NONE

/** `--quiet-start 22`: an hour 0-23, or `none` to clear it (null). */
export function parseHour (value: string): number | None {
  if (value === 'none') return NONE
  if (!/^\d{1,2}$/.test(value) || Number(value) > 23) throw new InvalidArgumentError('use an hour from 0 to 23, or "none"')
  return Number(value)
}

/** `--enabled true|false` (also yes/no, on/off, 1/0). */
export function parseBool (value: string): boolean {
  const v = value.toLowerCase()
  if (['true', 'yes', 'on', '1'].includes(v)) return true
  if (['false', 'no', 'off', '0'].includes(v)) return false
  throw new InvalidArgumentError('use true or false')
}

/** A value that `none` clears (null): `--model none` goes back to the global model. */
export function parseNullable (value: string): string | None {
  return value === 'none' ? NONE : value
}

export function oneOf (allowed: readonly string[], nullable = false): (value: string) => string | None {
  return (value) => {
    if (nullable && value === 'none') return NONE
    if (!allowed.includes(value)) throw new InvalidArgumentError(`use one of ${allowed.join(', ')}${nullable ? ', or "none"' : ''}`)
    return value
  }
}

/**
 * `--cli-param --foo --cli-param bar`: collects repeated values; `--cli-param none` clears them (an
 * empty list, as `none` clears the other run options). An empty argument is refused.
 */
export function collectValues (value: string, previous: string[] | undefined): string[] {
  if (value === '') throw new InvalidArgumentError('give an argument, or "none" to clear them')
  return value === 'none' ? [] : [...(previous ?? []), value]
}

/**
 * The options the user gave, renamed to the API's snake_case fields; options not given are left out,
 * and one given as "none" is null.
 */
export function pickFields (opts: Record<string, unknown>, names: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  for (const [option, field] of Object.entries(names)) {
    const value = opts[option]
    if (value !== undefined) body[field] = value === NONE ? null : value
  }
  return body
}

/** An ISO instant as local wall time in `zone`: `Fri 2026-01-16 08:00`. */
export function formatInZone (iso: string, zone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]))
  return `${parts['weekday'] ?? ''} ${parts['year'] ?? ''}-${parts['month'] ?? ''}-${parts['day'] ?? ''} ${parts['hour'] ?? ''}:${parts['minute'] ?? ''}`
}

/** `key  value` lines, keys padded to one column. */
export function details (rows: Array<[key: string, value: unknown]>): string {
  const width = Math.max(...rows.map(([k]) => k.length))
  const show = (v: unknown): string => v === null || v === undefined || v === '' ? '-' : Array.isArray(v) ? (v.length === 0 ? '-' : v.join(' ')) : String(v)
  // Continuation lines of a multi-line value line up under its first line.
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${show(v).replaceAll('\n', '\n' + ' '.repeat(width + 4))}`).join('\n') + '\n'
}

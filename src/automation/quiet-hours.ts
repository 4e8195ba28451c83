import { localParts } from './tz.ts'

/**
 * Quiet hours (SPEC §8.1): local hours [start, end) in which a job or hook task is skipped.
 * The window wraps past midnight when start > end (21 → 8 means 21:00–07:59); start == end means no
 * quiet window at all (this is how a job switches off the heartbeat's window for itself).
 */

export interface QuietWindow {
  start: number
  end: number
}

function isHour (value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 23
}

/** True when `nowMs` falls inside the quiet window in `tz`. A missing or out-of-range bound means no window. */
export function isQuiet (nowMs: number, tz: string, start: number | null | undefined, end: number | null | undefined): boolean {
  if (!isHour(start) || !isHour(end) || start === end) return false
  const { hour } = localParts(nowMs, tz)
  return start < end ? hour >= start && hour < end : hour >= start || hour < end
}

/**
 * The window that applies to a job or hook: each bound from the task when it sets one, else the
 * heartbeat's (`heartbeat.quiet_start` / `quiet_end`), like the original's `--quiet-start/--quiet-end`.
 */
export function resolveQuietWindow (
  task: { quiet_start?: number | null, quiet_end?: number | null },
  heartbeat: { quiet_start: number, quiet_end: number }
): QuietWindow {
  return {
    start: task.quiet_start ?? heartbeat.quiet_start,
    end: task.quiet_end ?? heartbeat.quiet_end
  }
}

import { localParts } from '../tz.ts'

/**
 * Quiet hours (SPEC §8.1): local hours [start, end) in which a job or hook task is skipped.
 * The window wraps past midnight when start > end (21 → 8 means 21:00–07:59); start == end means no
 * quiet window at all (this is how a job switches off the cron-wide window for itself).
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

/** Where a task's quiet window comes from: its own bounds, or the cron-wide `cron.quiet_start`/`quiet_end`. */
export type QuietSource = 'task' | 'cron'

/**
 * The window that applies to a job or hook task, or null when it may run at any hour. Each bound
 * comes from the task when it sets one, else from the cron-wide setting (`cron.quiet_start` /
 * `cron.quiet_end`, null by default). The heartbeat's window is the heartbeat's only (SPEC §8.1):
 * unlike the Python version, a job set for 07:00 runs at 07:00 although the heartbeat sleeps until 08.
 * A window whose start equals its end is no window.
 */
export function resolveQuietWindow (
  task: { quiet_start?: number | null, quiet_end?: number | null },
  cron: { quiet_start?: number | null, quiet_end?: number | null } | undefined
): (QuietWindow & { source: QuietSource }) | null {
  const start = task.quiet_start ?? cron?.quiet_start ?? null
  const end = task.quiet_end ?? cron?.quiet_end ?? null
  if (!isHour(start) || !isHour(end) || start === end) return null
  const own = task.quiet_start !== null && task.quiet_start !== undefined && task.quiet_end !== null && task.quiet_end !== undefined
  return { start, end, source: own ? 'task' : 'cron' }
}

/**
 * Why a task's own quiet hours cannot be saved as given, or null. One bound without the other is no
 * window of its own (SPEC §8.1 speaks of "its own window"); it used to be accepted and then shown as
 * "none", so create and update refuse it (ADR 0042). Files that hold one (a hand edit, the Python
 * version) still load: there the missing bound comes from the cron-wide window, as above.
 */
export function halfWindowProblem (task: { quiet_start?: number | null, quiet_end?: number | null }): string | null {
  const start = task.quiet_start ?? null
  const end = task.quiet_end ?? null
  if ((start === null) === (end === null)) return null
  const [set, missing] = start !== null ? ['quiet_start', 'quiet_end'] : ['quiet_end', 'quiet_start']
  return `${set} is set but ${missing} is not: quiet hours need both (local hours 0-23, e.g. quiet_start 22 and quiet_end 7 skip runs from 22:00 to 06:59), or neither for none`
}

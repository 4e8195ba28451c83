import { readdir, lstat, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logger-types.ts'
import { localParts } from '../tz.ts'

/**
 * Daily cleanup (SPEC §8.4): top-level files older than N days in `telegram_files/` and
 * `output_to_user/`. Only regular files directly in the folder are touched — no folders, no
 * recursion, and symlinks are left alone (their age says nothing about what they point to).
 */

const DAY_MS = 86_400_000

/** The agent's rule files, which the Python version seeds into these folders too: never deleted. */
export const RULE_FILES: ReadonlySet<string> = new Set(['CLAUDE.md', 'AGENTS.md', 'GEMINI.md'])

export interface DeletedFile {
  name: string
  modifiedAt: number
}

/**
 * Deletes the regular files directly inside `dir` whose modification time is more than `maxAgeDays`
 * days before `now`, and returns them; rule files (`RULE_FILES`) are kept. A missing folder deletes nothing; `maxAgeDays` ≤ 0 (or not a
 * number) deletes nothing. A file that cannot be deleted is logged and skipped.
 */
export async function deleteOldFiles (
  dir: string,
  maxAgeDays: number,
  now: number,
  opts: { logger?: Logger } = {}
): Promise<DeletedFile[]> {
  if (!Number.isFinite(maxAgeDays) || maxAgeDays <= 0) return []
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const cutoff = now - maxAgeDays * DAY_MS
  const deleted: DeletedFile[] = []
  for (const name of names.sort()) {
    const path = join(dir, name)
    try {
      // The index of received files keeps their captions: rebuilt with each new file, never aged out.
      if (RULE_FILES.has(name) || name === '_index.yaml') continue
      const info = await lstat(path)
      if (!info.isFile() || info.mtimeMs >= cutoff) continue
      await unlink(path)
      deleted.push({ name, modifiedAt: info.mtimeMs })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      opts.logger?.warn({ path, err }, 'cleanup could not delete a file')
    }
  }
  return deleted
}

/** The local calendar day of `now` in `tz` (`YYYY-MM-DD`): what to remember as the last cleanup day. */
export function cleanupDayKey (now: number, tz: string): string {
  return localParts(now, tz).dayKey
}

/**
 * Cleanup runs once a day at `check_hour` local time. It is due when the local hour has reached
 * `checkHour` and it has not run yet on this local day. Once the hour has passed it stays due for the
 * rest of the day, so a machine that sleeps through 03:00 still cleans up when it wakes.
 */
export function isCleanupDue (now: number, tz: string, checkHour: number, lastRunDay: string | null | undefined): boolean {
  const { hour, dayKey } = localParts(now, tz)
  return hour >= checkHour && dayKey !== lastRunDay
}

const DATED_FOLDER = /^\d{4}-\d{2}-\d{2}$/

export interface CleanupReport {
  telegramFiles: number
  outputToUser: number
  /** Empty dated folders (`telegram_files/YYYY-MM-DD/`) removed. */
  folders: number
}

/**
 * The daily cleanup of the workspace (SPEC §8.4, docs/adr/0003): old top-level files of
 * `telegram_files/` and of each of its dated folders (`YYYY-MM-DD/`, where the Telegram adapter
 * saves what the user sent), then dated folders left empty from before today (local); and old
 * top-level files of `output_to_user/`. Other folders and everything deeper are never touched.
 */
export async function cleanWorkspaceFiles (opts: {
  telegramFilesDir: string
  outputToUserDir: string
  telegramFilesDays: number
  outputToUserDays: number
  now: number
  timezone: string
  logger?: Logger
}): Promise<CleanupReport> {
  const { now, logger } = opts
  const report: CleanupReport = { telegramFiles: 0, outputToUser: 0, folders: 0 }
  report.telegramFiles += (await deleteOldFiles(opts.telegramFilesDir, opts.telegramFilesDays, now, { logger })).length
  const today = cleanupDayKey(now, opts.timezone)
  const names = await readdir(opts.telegramFilesDir).catch(() => [] as string[])
  for (const name of names.filter((n) => DATED_FOLDER.test(n)).sort()) {
    const dir = join(opts.telegramFilesDir, name)
    const isDir = await lstat(dir).then((s) => s.isDirectory(), () => false)
    if (!isDir) continue
    report.telegramFiles += (await deleteOldFiles(dir, opts.telegramFilesDays, now, { logger })).length
    // Today's folder may be about to receive a file: only earlier days are removed.
    if (name >= today) continue
    try {
      await rmdir(dir)
      report.folders++
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') logger?.warn({ path: dir, err }, 'cleanup could not remove a folder')
    }
  }
  report.outputToUser += (await deleteOldFiles(opts.outputToUserDir, opts.outputToUserDays, now, { logger })).length
  return report
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, writeFile, utimes, symlink, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteOldFiles, isCleanupDue, cleanupDayKey, cleanWorkspaceFiles } from '../../src/automation/cleanup.ts'

const DAY = 86_400_000
const NOW = Date.parse('2026-06-15T12:00:00Z')

async function aged (path: string, days: number): Promise<void> {
  const when = new Date(NOW - days * DAY)
  await utimes(path, when, when)
}

test('deletes only top-level regular files older than N days and says which; never the rule files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-cleanup-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'old.jpg'), 'x')
  await aged(join(dir, 'old.jpg'), 31)
  await writeFile(join(dir, 'new.txt'), 'x')
  await aged(join(dir, 'new.txt'), 29)
  for (const rule of ['CLAUDE.md', 'AGENTS.md']) {
    await writeFile(join(dir, rule), 'rules')
    await aged(join(dir, rule), 400)
  }
  await mkdir(join(dir, '2026-01-01'))
  await writeFile(join(dir, '2026-01-01', 'nested-old.jpg'), 'x')
  await aged(join(dir, '2026-01-01', 'nested-old.jpg'), 100)
  await aged(join(dir, '2026-01-01'), 100)
  const outside = await mkdtemp(join(tmpdir(), 'ductor-cleanup-target-'))
  t.after(() => rm(outside, { recursive: true, force: true }))
  await writeFile(join(outside, 'precious'), 'x')
  await aged(join(outside, 'precious'), 100)
  await symlink(join(outside, 'precious'), join(dir, 'link'))

  const deleted = await deleteOldFiles(dir, 30, NOW)
  assert.deepEqual(deleted.map((d) => d.name), ['old.jpg'])
  assert.equal(deleted[0]!.modifiedAt, NOW - 31 * DAY)
  assert.deepEqual((await readdir(dir)).sort(), ['2026-01-01', 'AGENTS.md', 'CLAUDE.md', 'link', 'new.txt'], 'old rule files are kept')
  assert.deepEqual(await readdir(join(dir, '2026-01-01')), ['nested-old.jpg'])
  assert.deepEqual(await readdir(outside), ['precious'])
})

test('a missing folder or a non-positive age deletes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-cleanup-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  assert.deepEqual(await deleteOldFiles(join(dir, 'absent'), 30, NOW), [])
  await writeFile(join(dir, 'f'), 'x')
  await aged(join(dir, 'f'), 400)
  assert.deepEqual(await deleteOldFiles(dir, 0, NOW), [])
  assert.deepEqual(await deleteOldFiles(dir, Number.NaN, NOW), [])
  assert.deepEqual(await readdir(dir), ['f'])
})

test('cleanup is due once per local day, from check_hour on', () => {
  const tz = 'Europe/Berlin'
  const at = (iso: string): number => Date.parse(iso)
  // 03:00 Berlin summer time is 01:00 UTC.
  assert.equal(isCleanupDue(at('2026-06-15T00:59:00Z'), tz, 3, null), false, '02:59 local')
  assert.equal(isCleanupDue(at('2026-06-15T01:00:00Z'), tz, 3, null), true, '03:00 local')
  assert.equal(isCleanupDue(at('2026-06-15T01:00:00Z'), tz, 3, '2026-06-14'), true)
  assert.equal(isCleanupDue(at('2026-06-15T01:00:00Z'), tz, 3, '2026-06-15'), false, 'already ran today')
  assert.equal(isCleanupDue(at('2026-06-15T15:00:00Z'), tz, 3, '2026-06-14'), true, 'slept through 03:00: still runs today')
  assert.equal(isCleanupDue(at('2026-06-15T22:30:00Z'), tz, 3, '2026-06-15'), false, '00:30 on the 16th local, before check_hour')
  assert.equal(cleanupDayKey(at('2026-06-15T22:30:00Z'), tz), '2026-06-16')
  assert.equal(cleanupDayKey(at('2026-06-15T22:30:00Z'), 'UTC'), '2026-06-15')
})

test('workspace cleanup: old files of telegram_files, of its dated folders and of output_to_user; empty past day folders go', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ductor-cleanup-ws-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const tg = join(root, 'telegram_files')
  const out = join(root, 'output_to_user')
  const file = async (path: string, days: number): Promise<void> => {
    await mkdir(join(path, '..'), { recursive: true })
    await writeFile(path, 'x')
    await aged(path, days)
  }
  await file(join(tg, 'loose-old.jpg'), 40)
  await file(join(tg, '2026-04-01', 'photo.jpg'), 75) // all old: the folder empties and goes
  await file(join(tg, '2026-05-20', 'old.pdf'), 26) // 26 days: the limit here is 20
  await file(join(tg, '2026-05-20', 'voice.ogg'), 10) // still young: folder stays
  await file(join(tg, '2026-05-20', 'deep', 'nested.txt'), 90) // deeper: never touched
  await mkdir(join(tg, '2026-06-15')) // today's folder, empty: kept for the files about to come
  await file(join(tg, 'my-stuff', 'keep.txt'), 90) // not a dated folder: left alone
  await file(join(out, 'report-old.pdf'), 31)
  await file(join(out, 'report-new.pdf'), 5)
  await file(join(out, 'sub', 'old.txt'), 99)

  const report = await cleanWorkspaceFiles({
    telegramFilesDir: tg,
    outputToUserDir: out,
    telegramFilesDays: 20,
    outputToUserDays: 30,
    now: NOW,
    timezone: 'UTC'
  })
  assert.deepEqual(report, { telegramFiles: 3, outputToUser: 1, folders: 1 })
  assert.deepEqual((await readdir(tg)).sort(), ['2026-05-20', '2026-06-15', 'my-stuff'])
  assert.deepEqual((await readdir(join(tg, '2026-05-20'))).sort(), ['deep', 'voice.ogg'])
  assert.deepEqual(await readdir(join(tg, '2026-05-20', 'deep')), ['nested.txt'])
  assert.deepEqual(await readdir(join(tg, 'my-stuff')), ['keep.txt'])
  assert.deepEqual((await readdir(out)).sort(), ['report-new.pdf', 'sub'])
  assert.deepEqual(await readdir(join(out, 'sub')), ['old.txt'])
})

test('workspace cleanup with missing folders does nothing and does not fail', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ductor-cleanup-ws-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const report = await cleanWorkspaceFiles({
    telegramFilesDir: join(root, 'nope'),
    outputToUserDir: join(root, 'nope2'),
    telegramFilesDays: 30,
    outputToUserDays: 30,
    now: NOW,
    timezone: 'UTC'
  })
  assert.deepEqual(report, { telegramFiles: 0, outputToUser: 0, folders: 0 })
})

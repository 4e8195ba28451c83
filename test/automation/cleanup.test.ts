import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, writeFile, utimes, symlink, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteOldFiles, isCleanupDue, cleanupDayKey } from '../../src/automation/cleanup.ts'

const DAY = 86_400_000
const NOW = Date.parse('2026-06-15T12:00:00Z')

async function aged (path: string, days: number): Promise<void> {
  const when = new Date(NOW - days * DAY)
  await utimes(path, when, when)
}

test('deletes only top-level regular files older than N days and says which', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-cleanup-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'old.jpg'), 'x')
  await aged(join(dir, 'old.jpg'), 31)
  await writeFile(join(dir, 'new.txt'), 'x')
  await aged(join(dir, 'new.txt'), 29)
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
  assert.deepEqual((await readdir(dir)).sort(), ['2026-01-01', 'link', 'new.txt'])
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

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic, loadJsonFile } from '../src/atomic-json.ts'
import { DuctorError } from '../src/errors.ts'
import { tempDir, memoryLogger } from './helper.ts'

test('an atomic write replaces the file whole and leaves no temp file', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'jobs.json')
  await writeJsonAtomic(path, { jobs: [1] })
  await writeJsonAtomic(path, { jobs: [1, 2] })
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { jobs: [1, 2] })
  assert.deepEqual(await readdir(dir), ['jobs.json'])
})

test('a missing store loads empty; a corrupt one is moved aside, logged, and the store starts empty', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'sessions.json')
  const empty = () => ({ items: [] as number[] })
  assert.deepEqual(await loadJsonFile(path, { empty }), { status: 'missing', value: { items: [] } })

  await writeFile(path, '{"items": [1, 2')
  const { logger, lines } = memoryLogger()
  const result = await loadJsonFile(path, { empty, logger })
  assert.equal(result.status, 'quarantined')
  assert.deepEqual(result.value, { items: [] })
  const names = await readdir(dir)
  assert.equal(names.length, 1)
  assert.match(names[0] ?? '', /^sessions\.json\.corrupt-/)
  assert.equal(await readFile(join(dir, names[0] ?? ''), 'utf8'), '{"items": [1, 2', 'the corrupt content is kept')
  assert.ok(lines.some((l) => l.includes('"level":50') && l.includes('moved aside')), 'logged at error level')
})

test('a store of the wrong shape is quarantined too', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'cron_jobs.json')
  await writeFile(path, '[1,2,3]')
  const result = await loadJsonFile(path, { empty: () => ({ jobs: [] }), accept: (v): v is { jobs: [] } => typeof v === 'object' && v !== null && 'jobs' in v })
  assert.equal(result.status, 'quarantined')
})

test('a write that cannot happen fails with an error naming the path and leaves nothing behind', async (t) => {
  const dir = await tempDir(t)
  const blocker = join(dir, 'state')
  await writeFile(blocker, 'a file where a folder should be')
  const path = join(blocker, 'runs.json')
  await assert.rejects(writeJsonAtomic(path, { runs: [] }), (err: unknown) => err instanceof DuctorError && err.message.includes(path))
  assert.deepEqual(await readdir(dir), ['state'])
})

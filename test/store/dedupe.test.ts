import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, appendFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FileHandle } from 'node:fs/promises'
import { createDedupeStore } from '../../src/store/dedupe.ts'
import type { DedupeOptions } from '../../src/store/dedupe.ts'

const hour = 60 * 60 * 1000
const t0 = Date.parse('2025-03-01T12:00:00Z')

async function tempPath (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-dedupe-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return join(dir, 'dedupe.jsonl')
}

function open (path: string, now: number, extra: Partial<DedupeOptions> = {}) {
  return createDedupeStore({ path, clock: { now: () => now }, ...extra })
}

test('a key is new once, then a duplicate until its TTL runs out', async (t) => {
  const path = await tempPath(t)
  const store = await open(path, t0)
  t.after(() => store.close())
  assert.equal(store.checkAndRemember('hook:gh:d-1', t0), true)
  assert.equal(store.checkAndRemember('hook:gh:d-1', t0 + 1000), false)
  assert.equal(store.checkAndRemember('hook:gh:d-2', t0 + 1000), true)
  assert.equal(store.checkAndRemember('hook:gh:d-1', t0 + 24 * hour - 1), false)
  assert.equal(store.checkAndRemember('hook:gh:d-1', t0 + 24 * hour), true, 'remembered for 24 h by default')
})

test('seen keys are remembered across a restart, and expire across one', async (t) => {
  const path = await tempPath(t)
  const store = await open(path, t0)
  store.checkAndRemember('tg:1001', t0)
  store.checkAndRemember('tg:1002', t0 + hour)
  await store.close()

  const later = await open(path, t0 + 2 * hour)
  assert.equal(later.checkAndRemember('tg:1001', t0 + 2 * hour), false)
  assert.equal(later.checkAndRemember('tg:1003', t0 + 2 * hour), true)
  await later.close()

  const nextDay = await open(path, t0 + 24 * hour + 30 * 60 * 1000)
  t.after(() => nextDay.close())
  assert.equal(nextDay.size(), 2, 'the expired key is not loaded')
  assert.equal(nextDay.has('tg:1001', t0 + 24 * hour + 30 * 60 * 1000), false)
  assert.equal(nextDay.has('tg:1002', t0 + 24 * hour + 30 * 60 * 1000), true)
})

test('forget lets a sender retry, also after a restart', async (t) => {
  const path = await tempPath(t)
  const store = await open(path, t0)
  assert.equal(store.checkAndRemember('d-1', t0), true)
  store.forget('d-1')
  store.forget('never-seen')
  assert.equal(store.has('d-1', t0), false)
  assert.equal(store.checkAndRemember('d-2', t0), true)
  store.forget('d-2')
  await store.close()
  const again = await open(path, t0)
  t.after(() => again.close())
  assert.equal(again.checkAndRemember('d-2', t0), true)
})

test('memory is bounded: past maxKeys the oldest keys are forgotten', async (t) => {
  const path = await tempPath(t)
  const store = await open(path, t0, { maxKeys: 100 })
  for (let i = 0; i < 250; i++) store.checkAndRemember(`k${i}`, t0 + i)
  assert.equal(store.size(), 100)
  assert.equal(store.has('k149', t0 + 300), false)
  assert.equal(store.has('k150', t0 + 300), true)
  await store.close()
  const again = await open(path, t0 + 300, { maxKeys: 100 })
  t.after(() => again.close())
  assert.equal(again.size(), 100)
  assert.equal(again.has('k249', t0 + 300), true)
})

test('the file is compacted instead of growing with expired keys', async (t) => {
  const path = await tempPath(t)
  const store = await open(path, t0, { ttlMs: 1000 })
  let now = t0
  for (let i = 0; i < 6000; i++) {
    now += 10
    store.checkAndRemember(`k${i}`, now)
    if (i % 500 === 0) await store.flush() // traffic is spread over time: let the writer catch up
  }
  await store.close()
  const lines = (await readFile(path, 'utf8')).split('\n').length - 1
  assert.ok(lines < 2500, `${lines} lines for 100 live keys`)
  const again = await open(path, now, { ttlMs: 1000 })
  t.after(() => again.close())
  assert.equal(again.size(), 100)
  assert.equal(again.has('k5999', now), true)
})

test('keys are not fsynced one by one; flush makes them durable', async (t) => {
  const path = await tempPath(t)
  let syncs = 0
  const syncFile = async (h: FileHandle): Promise<void> => { syncs++; await h.datasync() }
  const store = await open(path, t0, { syncFile, lazySyncMs: 60_000 })
  t.after(() => store.close())
  for (let i = 0; i < 100; i++) store.checkAndRemember(`k${i}`, t0)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(syncs, 0)
  await store.flush()
  assert.equal(syncs, 1)
  assert.equal((await readFile(path, 'utf8')).split('\n').length - 1, 100)
})

test('a torn last line is ignored', async (t) => {
  const path = await tempPath(t)
  const store = await open(path, t0)
  store.checkAndRemember('a', t0)
  await store.close()
  await appendFile(path, '{"k":"b","x":17')
  const again = await open(path, t0)
  assert.equal(again.has('a', t0), true)
  assert.equal(again.has('b', t0), false)
  again.checkAndRemember('c', t0)
  await again.close()
  const third = await open(path, t0)
  t.after(() => third.close())
  assert.equal(third.has('c', t0), true)
})

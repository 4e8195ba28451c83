import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, appendFile, readFile, readdir, stat } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FileHandle } from 'node:fs/promises'
import { createJournal } from '../../src/store/journal.ts'
import { DuctorError } from '../../src/errors.ts'

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-journal-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** An fdatasync that counts calls and can be held closed. */
function gatedSync () {
  let calls = 0
  let gate: Promise<void> = Promise.resolve()
  let open = (): void => {}
  return {
    get calls () { return calls },
    hold () { gate = new Promise((resolve) => { open = resolve }) },
    release () { open() },
    async sync (handle: FileHandle) { calls++; await gate; await handle.datasync() }
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('accepted entries survive a reopen, in order, until they are marked done', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  const a = await journal.append({ kind: 'telegram', key: '1001', payload: { update_id: 1001, message: { text: 'hi' } } })
  const b = await journal.append({ kind: 'webhook', key: 'gh-abc', payload: { action: 'opened' } })
  const c = await journal.append({ kind: 'webhook', key: 'gh-def', payload: null })
  assert.ok(a.seq < b.seq && b.seq < c.seq)
  journal.markFinished(b.seq)
  await journal.close()

  const again = await createJournal({ path })
  t.after(() => again.close())
  const pending = again.pending()
  assert.deepEqual(pending.map((e) => [e.seq, e.kind, e.key]), [[a.seq, 'telegram', '1001'], [c.seq, 'webhook', 'gh-def']])
  assert.deepEqual(pending[0]?.payload, { update_id: 1001, message: { text: 'hi' } })
  assert.match(pending[0]?.accepted_at ?? '', /^\d{4}-\d\d-\d\dT/)
  again.markFinished(a.seq)
  assert.deepEqual(again.pending().map((e) => e.seq), [c.seq])
})

test('sequence numbers keep growing across reopens even when everything was done', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const first = await createJournal({ path })
  const { seq } = await first.append({ kind: 'webhook', key: 'x', payload: {} })
  first.markFinished(seq)
  await first.close()
  const second = await createJournal({ path })
  assert.equal(second.pending().length, 0)
  const next = await second.append({ kind: 'webhook', key: 'y', payload: {} })
  await second.close()
  assert.ok(next.seq > seq)
})

test('concurrent appends share one write and one fsync (group commit)', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const sync = gatedSync()
  const journal = await createJournal({ path, syncFile: sync.sync })
  t.after(() => journal.close())
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => journal.append({ kind: 'webhook', key: `k${i}`, payload: { i } })))
  assert.equal(new Set(results.map((r) => r.seq)).size, 100)
  assert.equal(sync.calls, 1)
  assert.equal(journal.stats().writes, 1)
})

test('appends queued while a flush is in flight go into the next single write + fsync', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const sync = gatedSync()
  const journal = await createJournal({ path, syncFile: sync.sync })
  t.after(() => journal.close())
  sync.hold()
  let firstDone = false
  const first = journal.append({ kind: 'telegram', key: '1', payload: {} }).then((r) => { firstDone = true; return r })
  while (sync.calls === 0) await tick()
  const later = Array.from({ length: 50 }, (_, i) => journal.append({ kind: 'telegram', key: `${i + 2}`, payload: {} }))
  await tick()
  assert.equal(firstDone, false, 'an append is not acknowledged before its fsync')
  sync.release()
  await first
  await Promise.all(later)
  assert.equal(sync.calls, 2)
  assert.equal(journal.stats().writes, 2)
})

test('a torn last line is ignored and later appends are not glued onto it', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  const { seq } = await journal.append({ kind: 'webhook', key: 'ok', payload: { fine: true } })
  await journal.close()
  await appendFile(path, `{"t":"e","seq":${seq + 1},"kind":"webhook","key":"torn","at":"2025-01-01T00:00:00.000Z","payload":{"bo`)

  const second = await createJournal({ path })
  assert.deepEqual(second.pending().map((e) => e.key), ['ok'])
  const next = await second.append({ kind: 'webhook', key: 'after', payload: { n: 1 } })
  await second.close()

  const third = await createJournal({ path })
  t.after(() => third.close())
  assert.deepEqual(third.pending().map((e) => [e.seq, e.key, e.payload]), [[seq, 'ok', { fine: true }], [next.seq, 'after', { n: 1 }]])
})

test('unreadable lines in the middle are skipped, the rest is kept', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  await journal.append({ kind: 'webhook', key: 'a', payload: 1 })
  await journal.close()
  await appendFile(path, '\0\0\0\0\n{"t":"e","seq":"bad"}\n{"t":"e","seq":77,"kind":"telegram","key":"b","at":"2025-01-01T00:00:00.000Z","payload":2}\n')
  const again = await createJournal({ path })
  t.after(() => again.close())
  assert.deepEqual(again.pending().map((e) => [e.key, e.payload]), [['a', 1], ['b', 2]])
})

test('large payloads (256 KB webhook bodies) round-trip intact', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  const body = { text: 'é'.repeat(128 * 1024), nested: { list: [1, 2, 3] } }
  await Promise.all([1, 2, 3].map((i) => journal.append({ kind: 'webhook', key: `big${i}`, payload: body })))
  await journal.close()
  const again = await createJournal({ path })
  t.after(() => again.close())
  assert.equal(again.pending().length, 3)
  for (const e of again.pending()) assert.deepEqual(e.payload, body)
})

test('done marks are not fsynced one by one, but close makes them durable', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const sync = gatedSync()
  const journal = await createJournal({ path, syncFile: sync.sync, lazySyncMs: 60_000 })
  const { seq } = await journal.append({ kind: 'webhook', key: 'a', payload: {} })
  const before = sync.calls
  journal.markFinished(seq)
  journal.markFinished(seq) // twice is harmless
  for (let i = 0; i < 5; i++) await tick()
  assert.equal(sync.calls, before)
  assert.match(await readFile(path, 'utf8'), /"t":"d"/, 'the done mark is written right away')
  await journal.close()
  assert.equal(sync.calls, before + 1)
  const again = await createJournal({ path })
  t.after(() => again.close())
  assert.equal(again.pending().length, 0)
})

test('done marks of one turn share one write; close in the same turn still writes and syncs them', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path, lazySyncMs: 60_000 })
  const seqs = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await journal.append({ kind: 'webhook', key: `k${i}`, payload: {} })).seq))
  const writes = journal.stats().writes
  for (const seq of seqs.slice(0, 5)) journal.markFinished(seq)
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(journal.stats().writes, writes + 1, 'five marks, one write')
  for (const seq of seqs.slice(5, 9)) journal.markFinished(seq)
  await journal.close() // the same turn: the marks are written by close
  const again = await createJournal({ path })
  t.after(() => again.close())
  assert.deepEqual(again.pending().map((e) => e.seq), [seqs[9]])
})

test('an unsynced done mark is synced by the lazy timer', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const sync = gatedSync()
  const journal = await createJournal({ path, syncFile: sync.sync, lazySyncMs: 10 })
  t.after(() => journal.close())
  const { seq } = await journal.append({ kind: 'webhook', key: 'a', payload: {} })
  journal.markFinished(seq)
  const deadline = Date.now() + 2000
  while (sync.calls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(sync.calls, 2)
})

test('compaction under concurrent appends keeps exactly the unfinished entries', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path, compactBytes: 8 * 1024 })
  const kept = new Map<number, string>()
  async function worker (w: number): Promise<void> {
    for (let i = 0; i < 60; i++) {
      const key = `w${w}-${i}`
      const { seq } = await journal.append({ kind: 'webhook', key, payload: { key, pad: 'p'.repeat(200) } })
      if (i % 10 === 0) kept.set(seq, key)
      else journal.markFinished(seq)
    }
  }
  // Explicit compactions race the appends too.
  await Promise.all([...Array.from({ length: 8 }, (_, w) => worker(w)), journal.compact(), tick().then(() => journal.compact())])
  const stats = journal.stats()
  assert.ok(stats.compactions >= 2, `compactions: ${stats.compactions}`)
  await journal.close()
  const size = (await stat(path)).size
  assert.ok(size * 3 < stats.bytes, `the file stays small: ${size} bytes of ${stats.bytes} written`)

  const again = await createJournal({ path })
  t.after(() => again.close())
  const pending = again.pending()
  assert.deepEqual(pending.map((e) => e.seq), [...kept.keys()].sort((a, b) => a - b))
  for (const e of pending) assert.deepEqual(e.payload, { key: kept.get(e.seq), pad: 'p'.repeat(200) })
})

test('a compaction copies the unfinished entries while an append waits for its fsync, not after it (ADR 0041)', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'inbox.jsonl')
  const sync = gatedSync()
  const journal = await createJournal({ path, syncFile: sync.sync })
  t.after(() => journal.close().catch(() => {}))
  const pad = 'p'.repeat(2000)
  for (let i = 0; i < 200; i++) await journal.append({ kind: 'webhook', key: `old-${i}`, payload: { i, pad } })
  // An append is written and waits for its fsync; a compaction starts meanwhile.
  sync.hold()
  const inFlight = journal.append({ kind: 'webhook', key: 'in-flight', payload: { pad } })
  await tick()
  const compacted = journal.compact()
  // Before, the compaction waited behind that append and then held every later one for its whole
  // copy; now the copy (the new file, written and synced) is made while the append still waits.
  const deadline = Date.now() + 10_000
  let copy: number | undefined
  while (copy === undefined && Date.now() < deadline) {
    const temp = (await readdir(dir)).find((n) => n.startsWith('.inbox.jsonl.') && n.endsWith('.tmp'))
    const size = temp === undefined ? 0 : await stat(join(dir, temp)).then((s) => s.size, () => 0)
    if (size > 200 * 2000) copy = size
    else await new Promise((resolve) => setTimeout(resolve, 5))
  }
  assert.ok(copy !== undefined, 'the compaction copied the entries while the append was waiting for its fsync')
  const later = journal.append({ kind: 'webhook', key: 'later', payload: { pad } })
  sync.release()
  await Promise.all([inFlight, compacted, later])
  assert.equal(journal.stats().compactions, 1)
  await journal.close()
  const again = await createJournal({ path })
  t.after(() => again.close())
  assert.deepEqual(again.pending().map((e) => e.key), [...Array.from({ length: 200 }, (_, i) => `old-${i}`), 'in-flight', 'later'])
})

test('a failed fsync rejects the append and every later one', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path, syncFile: async () => { throw new Error('EIO: i/o error') } })
  t.after(() => journal.close().catch(() => {}))
  await assert.rejects(journal.append({ kind: 'webhook', key: 'a', payload: {} }), (err: unknown) => err instanceof DuctorError && err.code === 'storage_error')
  await assert.rejects(journal.append({ kind: 'webhook', key: 'b', payload: {} }), DuctorError)
  assert.equal(journal.stats().pending, 0)
})

test('close flushes what is queued and refuses appends after it', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  const queued = journal.append({ kind: 'webhook', key: 'before', payload: {} })
  const closing = journal.close()
  await assert.rejects(journal.append({ kind: 'webhook', key: 'after', payload: {} }), DuctorError)
  await Promise.all([queued, closing, journal.close()])
  const again = await createJournal({ path })
  t.after(() => again.close())
  assert.deepEqual(again.pending().map((e) => e.key), ['before'])
})

test('an unknown kind is refused', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  t.after(() => journal.close())
  await assert.rejects(journal.append({ kind: 'email' as 'webhook', key: 'a', payload: {} }), DuctorError)
})

interface ChildLog { acked: Map<number, number>, done: Set<number> }

/** Runs the crash child until it has acknowledged `atLeast` entries, then SIGKILLs it. */
function runAndKill (path: string, atLeast: number, log: ChildLog, t: { after: (fn: () => void) => void }): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./journal-crash-child.ts', import.meta.url).pathname, path], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let acked = 0
  let rest = ''
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        const [type, seq, size] = line.split(' ')
        if (type === 'a') {
          assert.equal(log.acked.has(Number(seq)), false, `seq ${seq} acknowledged twice`)
          log.acked.set(Number(seq), Number(size))
          acked++
        } else if (type === 'd') {
          log.done.add(Number(seq))
        }
      }
      if (acked >= atLeast && child.signalCode === null) child.kill('SIGKILL')
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve()
      else reject(new Error(`child exited by itself: code ${code}`))
    })
  })
}

test('crash test: SIGKILL while appending loses no acknowledged entry and leaves none half', { timeout: 60_000 }, async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const log: ChildLog = { acked: new Map(), done: new Set() }
  // Three lives: each child reopens what the killed one left behind and goes on appending.
  for (const atLeast of [150, 200, 250]) await runAndKill(path, atLeast, log, t)

  const journal = await createJournal({ path })
  t.after(() => journal.close())
  const pending = new Map(journal.pending().map((e) => [e.seq, e]))
  for (const [seq, size] of log.acked) {
    const entry = pending.get(seq)
    if (entry === undefined) {
      assert.ok(log.done.has(seq), `acknowledged entry ${seq} is lost`)
      continue
    }
    const payload = entry.payload as { key: string, size: number, body: string }
    assert.equal(payload.size, size)
    assert.equal(payload.body.length, size, `entry ${seq} is damaged`)
    assert.equal(payload.key, entry.key)
  }
  // Entries written but not yet acknowledged when the kill landed may be there too, but whole.
  for (const entry of pending.values()) {
    const payload = entry.payload as { size: number, body: string }
    assert.equal(payload.body.length, payload.size)
  }
})

test('an encoded payload is written byte for byte and reads back as its payload; one holding a newline is stringified instead', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  const spaced = '{ "a" :\t[1, 2] , "s": "é \\u2028" }'
  const a = await journal.append({ kind: 'webhook', key: 'k1', payload: JSON.parse(spaced), encoded: Buffer.from(spaced) })
  const pretty = JSON.stringify({ b: 1 }, null, 2)
  const b = await journal.append({ kind: 'webhook', key: 'k2', payload: JSON.parse(pretty), encoded: Buffer.from(pretty) })
  // In parts (as the hooks route hands a delivery over: head, the body as received, end), written in order.
  const c = await journal.append({ kind: 'webhook', key: 'k3', payload: { c: [1, 2] }, encoded: [Buffer.from('{"c":'), Buffer.from('[1, '), Buffer.from('2]}')] })
  const d = await journal.append({ kind: 'webhook', key: 'k4', payload: { d: 1 }, encoded: [Buffer.from('{"d":'), Buffer.from('\n1}')] })
  await journal.close()
  const lines = (await readFile(path, 'utf8')).trim().split('\n')
  assert.equal(lines.length, 5, 'header and four entries, one line each')
  assert.ok(lines[1]?.includes(spaced), 'the bytes as given')
  assert.ok(lines[2]?.includes('"payload":{"b":1}'), 'the pretty-printed one stringified')
  assert.ok(lines[3]?.includes('"payload":{"c":[1, 2]}'), 'the parts as given, in order')
  assert.ok(lines[4]?.includes('"payload":{"d":1}'), 'parts holding a newline stringified')
  const reopened = await createJournal({ path })
  t.after(() => reopened.close())
  assert.deepEqual(reopened.pending().map((e) => [e.seq, e.key, e.payload]), [[a.seq, 'k1', { a: [1, 2], s: 'é \u2028' }], [b.seq, 'k2', { b: 1 }], [c.seq, 'k3', { c: [1, 2] }], [d.seq, 'k4', { d: 1 }]])
})

test('several started marks are one record: all of them land, and a torn copy of it marks none', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'inbox.jsonl')
  const journal = await createJournal({ path })
  const [a, b, c] = await Promise.all(['a', 'b', 'c', 'd'].map((key) => journal.append({ kind: 'telegram', key, payload: {} })))
  await journal.markStarted([a!.seq, b!.seq, c!.seq])
  assert.deepEqual(journal.stats().pending, 1)
  await journal.close()
  const lines = (await readFile(path, 'utf8')).trim().split('\n')
  // The first seq stands in `seq`: a reader that knows no `also` still takes the line for a done mark.
  assert.equal(lines.at(-1), `{"t":"d","seq":${a!.seq},"also":[${b!.seq},${c!.seq}]}`, 'one line for the three marks')
  const again = await createJournal({ path })
  assert.deepEqual(again.pending().map((e) => e.key), ['d'])
  await again.close()

  // A disk that filled up inside the record leaves a torn line: none of its entries is marked.
  const torn = join(dir, 'torn.jsonl')
  const other = await createJournal({ path: torn })
  const [x, y] = await Promise.all(['x', 'y'].map((key) => other.append({ kind: 'telegram', key, payload: {} })))
  await other.close()
  await appendFile(torn, `{"t":"d","seq":${x!.seq},"also":[${y!.seq}`)
  const reopened = await createJournal({ path: torn })
  t.after(() => reopened.close())
  assert.deepEqual(reopened.pending().map((e) => e.key), ['x', 'y'], 'both replayed, together')
  await reopened.markStarted([x!.seq, 999, x!.seq]) // unknown and repeated seqs are left out
  assert.deepEqual(reopened.pending().map((e) => e.key), ['y'])
})

test('progress marks come back with their entry after a reopen and after compactions; a done entry drops its progress (ADR 0050)', async (t) => {
  const path = join(await tempDir(t), 'inbox.jsonl')
  const journal = await createJournal({ path })
  const a = await journal.append({ kind: 'delivery', key: 'run-a:111', payload: { n: 1 } })
  const b = await journal.append({ kind: 'delivery', key: 'run-b:111', payload: { n: 2 } })
  const c = await journal.append({ kind: 'delivery', key: 'run-c:111', payload: { n: 3 } })
  await journal.markProgress(a.seq, 1)
  await journal.markProgress(a.seq, 2)
  await journal.markProgress(a.seq, 1) // never goes back
  await journal.markProgress(b.seq, 3)
  await journal.compact()
  await journal.markProgress(c.seq, 1)
  journal.markFinished(b.seq)
  await journal.close()

  const again = await createJournal({ path })
  assert.deepEqual(again.pending().map((e) => [e.key, e.progress]), [['run-a:111', 2], ['run-c:111', 1]])
  await again.compact()
  await again.close()
  const third = await createJournal({ path })
  assert.deepEqual(third.pending().map((e) => [e.key, e.progress]), [['run-a:111', 2], ['run-c:111', 1]])
  await third.close()
})

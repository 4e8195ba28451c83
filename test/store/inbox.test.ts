import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { createInbox, type Inbox } from '../../src/store/inbox.ts'
import { createJournal } from '../../src/store/journal.ts'
import { createDedupeStore } from '../../src/store/dedupe.ts'
import type { JournalEntry } from '../../src/store/journal.ts'
import { systemClock } from '../../src/clock.ts'
import { ClaimRefused, allClaims, createClaimGate, type WorkClaim } from '../../src/claims.ts'
import { memoryLogger, tempDir, waitFor } from '../helper.ts'
import { existsSync } from 'node:fs'
import { createFakeBin } from '../fakes/fake-bin.ts'
import { createProcessRegistry } from '../../src/providers/process-registry.ts'
import { createRunner } from '../../src/providers/runner.ts'
import { buildClaudeArgv } from '../../src/providers/claude.ts'

async function open (dir: string, lines: string[] = []): Promise<Inbox> {
  const { logger } = memoryLogger()
  const log = logger.child({})
  log.error = ((obj: unknown, msg?: string) => { lines.push(`${msg ?? ''} ${JSON.stringify(obj, (_k, v: unknown) => v instanceof Error ? v.message : v)}`) }) as typeof log.error
  return createInbox({
    journal: await createJournal({ path: join(dir, 'inbox.jsonl') }),
    dedupe: await createDedupeStore({ path: join(dir, 'dedupe.jsonl') }),
    clock: systemClock,
    logger: log,
    gate: createClaimGate()
  })
}

/** The next life of the inbox in `dir`: the keys of the webhook entries it replays at start. */
async function replayedWebhookKeys (t: TestContext, dir: string): Promise<string[]> {
  const second = await open(dir)
  t.after(() => second.close())
  const again = collector()
  second.handle('webhook', again.handler)
  await second.start()
  await second.stop(1000)
  return again.seen.map((e) => e.key)
}

function collector (): { seen: JournalEntry[], handler: (e: JournalEntry) => Promise<void> } {
  const seen: JournalEntry[] = []
  return { seen, handler: async (e) => { seen.push(e) } }
}

type Groups = Parameters<typeof createRunner>[0]['groups']

/**
 * The real runner over the fake CLI, in `dir`: `run(name, claim)` runs it for `claim` and answers the
 * run's status, or its refusal. The CLI records that it started in `ran-<name>.json`.
 */
async function fakeCliRunner (t: TestContext, dir: string, groups: Groups): Promise<(name: string, claim: WorkClaim) => Promise<unknown>> {
  const bin = await createFakeBin()
  t.after(async () => { await bin.cleanup() })
  const registry = createProcessRegistry()
  t.after(async () => { await registry.killAll() })
  const runner = createRunner({ logger: memoryLogger().logger, registry, groups })
  return async (name, claim) => await runner.run({
    runId: `run-${name}`,
    chatId: 'webhook:x',
    provider: 'claude',
    argv: buildClaudeArgv({ binary: bin.claude, prompt: 'hello', model: 'sonnet', permissionMode: 'default' }),
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, FAKE_CLI_RECORD: join(dir, `ran-${name}.json`) },
    timeoutMs: 10_000,
    claim
  }).done.then((o) => o.status, (err: unknown) => err)
}

test('an accepted entry reaches the handler of its kind once; the same key again is a duplicate', async (t) => {
  const dir = await tempDir(t)
  const inbox = await open(dir)
  t.after(() => inbox.close())
  const hooks = collector()
  const updates = collector()
  inbox.handle('webhook', hooks.handler)
  inbox.handle('telegram', updates.handler)

  const first = await inbox.accept('webhook', 'ci:1', { text: 'CI failed' })
  assert.equal(first.status, 'accepted')
  assert.equal(typeof first.seq, 'number')
  assert.deepEqual(await inbox.accept('webhook', 'ci:1', { text: 'CI failed' }), { status: 'duplicate', seq: null })
  // The same key in another kind is another thing.
  assert.equal((await inbox.accept('telegram', 'ci:1', { update_id: 1 })).status, 'accepted')
  await inbox.stop(1000)

  assert.deepEqual(hooks.seen.map((e) => [e.kind, e.key, e.payload]), [['webhook', 'ci:1', { text: 'CI failed' }]])
  assert.deepEqual(updates.seen.map((e) => e.key), ['ci:1'])
})

test('a key the caller made up (remember: false) is not written to the dedupe file; its replay keys still are', async (t) => {
  const dir = await tempDir(t)
  const inbox = await open(dir)
  const hooks = collector()
  inbox.handle('webhook', hooks.handler)
  assert.equal((await inbox.accept('webhook', 'ci:made-up', { n: 1 }, [], { remember: false })).status, 'accepted')
  assert.equal((await inbox.accept('webhook', 'ci:made-up', { n: 2 }, [], { remember: false })).status, 'accepted', 'nothing to be a duplicate of')
  assert.equal((await inbox.accept('webhook', 'ci:other', { n: 3 }, [{ key: 'ci body:abc', ttlMs: 60_000 }], { remember: false })).status, 'accepted')
  assert.equal((await inbox.accept('webhook', 'ci:again', { n: 4 }, [{ key: 'ci body:abc', ttlMs: 60_000 }], { remember: false })).status, 'duplicate', 'the replay key marks it')
  await inbox.stop(1000)
  await inbox.close()
  assert.equal(hooks.seen.length, 3)
  const dedupe = await readFile(join(dir, 'dedupe.jsonl'), 'utf8')
  assert.doesNotMatch(dedupe, /made-up|ci:other/)
  assert.match(dedupe, /ci body:abc/)
})

test('entries a crash left unfinished are replayed at the next start, finished ones are not, and keys stay remembered', async (t) => {
  const dir = await tempDir(t)
  const first = await open(dir)
  first.handle('webhook', async (e) => {
    if (e.key === 'slow') await new Promise(() => {}) // still running when the process "dies"
  })
  await first.accept('webhook', 'fast', { n: 1 })
  await first.accept('webhook', 'slow', { n: 2 })
  await first.stop(50)
  await first.close()

  const second = await open(dir)
  t.after(() => second.close())
  const again = collector()
  second.handle('webhook', again.handler)
  assert.equal(await second.start(), 1)
  await second.stop(1000)
  assert.deepEqual(again.seen.map((e) => [e.key, e.payload]), [['slow', { n: 2 }]])
  assert.equal((await second.accept('webhook', 'fast', { n: 1 })).status, 'duplicate', 'the sender retrying after the restart is recognised')
})

test('a failing handler is logged and its entry is not replayed forever', async (t) => {
  const dir = await tempDir(t)
  const lines: string[] = []
  const first = await open(dir, lines)
  first.handle('telegram', async () => { throw new Error('boom') })
  await first.accept('telegram', '7', {})
  await first.stop(1000)
  await first.close()
  assert.ok(lines.some((l) => l.includes('processing failed') && l.includes('boom')), lines.join('\n'))

  const second = await open(dir)
  t.after(() => second.close())
  second.handle('telegram', async () => { assert.fail('must not be replayed') })
  assert.equal(await second.start(), 0)
})

test('FinishAfter: entries wait for the shared promise their handler names, and are finished only once it settles', async (t) => {
  const dir = await tempDir(t)
  const first = await open(dir)
  let settle: () => void = () => {}
  const written = new Promise<void>((resolve) => { settle = resolve })
  let handled = 0
  first.handle('webhook', async () => { handled++; return { after: written } })
  for (const key of ['a', 'b', 'c']) await first.accept('webhook', key, {})
  await waitFor(() => handled === 3 ? true : undefined, 5000, 'the three handlers')
  // The handlers are done; the entries are not: each still counts, and none is finished yet.
  assert.equal(first.inFlight(), 3)
  settle()
  await waitFor(() => first.inFlight() === 0 ? true : undefined, 5000, 'the entries to be finished')
  await first.close()
  assert.deepEqual(await replayedWebhookKeys(t, dir), [], 'finished once the promise settled: nothing is replayed')

  // The service stops before the promise settles: the entries stay for the replay.
  const dir2 = await tempDir(t)
  const second = await open(dir2)
  let handled2 = 0
  second.handle('webhook', async () => { handled2++; return { after: new Promise<void>(() => {}) } })
  for (const key of ['d', 'e']) await second.accept('webhook', key, {})
  await waitFor(() => handled2 === 2 ? true : undefined, 5000, 'the two handlers')
  await second.stop(50)
  await second.close()
  assert.deepEqual((await replayedWebhookKeys(t, dir2)).sort(), ['d', 'e'])
})

test('entries of a kind nobody handles wait for a handler at a later start', async (t) => {
  const dir = await tempDir(t)
  const first = await open(dir)
  await first.accept('telegram', '42', { update_id: 42 })
  await first.stop(10)
  await first.close()

  const second = await open(dir)
  t.after(() => second.close())
  const updates = collector()
  second.handle('telegram', updates.handler)
  assert.equal(await second.start(), 1)
  await second.stop(1000)
  assert.deepEqual(updates.seen.map((e) => e.payload), [{ update_id: 42 }])
})

test('the key is remembered only once its entry is on disk: a crash before that leaves the sender free to retry', async (t) => {
  const dir = await tempDir(t)
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const { logger } = memoryLogger()
  const dedupe = await createDedupeStore({ path: join(dir, 'dedupe.jsonl') })
  const inbox = createInbox({
    journal: await createJournal({ path: join(dir, 'inbox.jsonl'), syncFile: async () => { await gate } }),
    dedupe,
    clock: systemClock,
    logger,
    gate: createClaimGate()
  })
  t.after(async () => { release(); await inbox.close() })
  const first = inbox.accept('webhook', 'gh:1', { n: 1 })
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(dedupe.has('webhook:gh:1', Date.now()), false, 'not remembered while the entry is not durable')
  assert.deepEqual(await inbox.accept('webhook', 'gh:1', { n: 1 }), { status: 'duplicate', seq: null }, 'a copy arriving meanwhile is a duplicate')
  release()
  assert.equal((await first).status, 'accepted')
  assert.equal(dedupe.has('webhook:gh:1', Date.now()), true)
})

test('an entry on disk whose key never reached the dedupe file is a duplicate after the restart, not a second copy', async (t) => {
  const dir = await tempDir(t)
  // The process died after the journal's flush and before the dedupe write (and before answering):
  // the journal holds the entry, the dedupe file does not know its key, the sender tries again.
  const journal = await createJournal({ path: join(dir, 'inbox.jsonl') })
  await journal.append({ kind: 'telegram', key: '77', payload: { update_id: 77 } })
  await journal.close()

  const inbox = await open(dir)
  t.after(() => inbox.close())
  const updates = collector()
  inbox.handle('telegram', updates.handler)
  assert.deepEqual(await inbox.accept('telegram', '77', { update_id: 77 }), { status: 'duplicate', seq: null }, 'the retry arriving before the replay')
  assert.equal(await inbox.start(), 1)
  assert.deepEqual(await inbox.accept('telegram', '77', { update_id: 77 }), { status: 'duplicate', seq: null }, 'and after it')
  await inbox.stop(1000)
  assert.deepEqual(updates.seen.map((e) => e.key), ['77'], 'handled once, by the replay')
})

test('claims: an entry whose run started is never replayed; one still waiting when the service stops, or refused at shutdown, is', async (t) => {
  const dir = await tempDir(t)
  const gate = createClaimGate()
  const { logger } = memoryLogger()
  const first = createInbox({
    journal: await createJournal({ path: join(dir, 'inbox.jsonl') }),
    dedupe: await createDedupeStore({ path: join(dir, 'dedupe.jsonl') }),
    clock: systemClock,
    logger,
    gate
  })
  let refusal: unknown
  first.handle('webhook', async (e, claim) => {
    if (e.key === 'started') {
      await claim.started()
      await new Promise(() => {}) // its CLI is still running when the process "dies"
    }
    if (e.key === 'waiting') await new Promise(() => {}) // waiting for a run slot
    if (e.key === 'refused') {
      await new Promise((resolve) => setTimeout(resolve, 100))
      refusal = await claim.started().catch((err: unknown) => err)
    }
  })
  await first.accept('webhook', 'started', {})
  await first.accept('webhook', 'waiting', {})
  await first.accept('webhook', 'refused', {})
  await first.accept('webhook', 'command', {})
  await new Promise((resolve) => setTimeout(resolve, 30))
  await gate.shut()
  await first.stop(2000)
  await first.close()
  assert.ok(refusal instanceof ClaimRefused && refusal.reason === 'shutdown' && refusal.replayed, String(refusal))

  assert.deepEqual(await replayedWebhookKeys(t, dir), ['waiting', 'refused'], 'only what never reached a CLI is replayed')
})

test('claims: a started mark that cannot be written (a full disk) refuses the run and leaves the entry to the replay', async (t) => {
  const dir = await tempDir(t)
  const { logger } = memoryLogger()
  const journal = await createJournal({ path: join(dir, 'inbox.jsonl') })
  const first = createInbox({
    journal: { ...journal, markStarted: async () => { throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }) } },
    dedupe: await createDedupeStore({ path: join(dir, 'dedupe.jsonl') }),
    clock: systemClock,
    logger,
    gate: createClaimGate()
  })
  let outcome: unknown
  first.handle('webhook', async (_e, claim) => { outcome = await claim.started().then(() => 'started', (err: unknown) => err) })
  await first.accept('webhook', 'full', {})
  await first.stop(1000)
  await first.close()
  assert.ok(outcome instanceof ClaimRefused && outcome.reason === 'storage' && outcome.replayed, String(outcome))

  assert.deepEqual(await replayedWebhookKeys(t, dir), ['full'], 'the run that was refused is replayed, not lost')
})

test('claims through the runner: a CLI process group that cannot be recorded (a full disk) never starts the CLI, writes no done mark, and the entry is replayed', async (t) => {
  const dir = await tempDir(t)
  const { logger } = memoryLogger()
  const order: string[] = []
  const journal = await createJournal({ path: join(dir, 'inbox.jsonl') })
  const first = createInbox({
    journal: {
      ...journal,
      markStarted: async (seq) => {
        // A slow disk: the CLI must still wait for the mark.
        await new Promise((resolve) => setTimeout(resolve, 300))
        order.push(existsSync(join(dir, 'ran-space.json')) ? 'mark after the CLI started' : 'mark')
        await journal.markStarted(seq)
      }
    },
    dedupe: await createDedupeStore({ path: join(dir, 'dedupe.jsonl') }),
    clock: systemClock,
    logger,
    gate: createClaimGate()
  })
  let full = true
  const run = await fakeCliRunner(t, dir, {
    add: async () => {
      order.push('group')
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    },
    remove: () => {},
    close: async () => {}
  })
  const outcomes: unknown[] = []
  first.handle('webhook', async (e, claim) => { outcomes.push(await run(e.key, claim)) })
  await first.accept('webhook', 'full', {})
  await waitFor(async () => outcomes.length === 1 ? true : undefined, 10_000, 'the run to settle')
  full = false
  await first.accept('webhook', 'space', {})
  await waitFor(async () => outcomes.length === 2 ? true : undefined, 10_000, 'the second run to settle')
  await first.stop(1000)
  await first.close()

  const refused = outcomes[0]
  assert.ok(refused instanceof ClaimRefused && refused.reason === 'storage' && refused.replayed, String(refused))
  assert.equal(outcomes[1], 'success', 'with space the CLI runs')
  assert.deepEqual(order, ['group', 'group', 'mark'], 'the group is recorded before the done mark, and a failed record writes no mark')
  assert.equal(await readFile(join(dir, 'ran-full.json'), 'utf8').catch(() => 'never ran'), 'never ran', 'the CLI of the refused run never started')
  assert.notEqual(await readFile(join(dir, 'ran-space.json'), 'utf8').catch(() => 'never ran'), 'never ran')
  assert.deepEqual(await replayedWebhookKeys(t, dir), ['full'], 'the refused run is replayed at the next start, not lost; the one that ran is not')
})

test('claims: a retry refused after an attempt that started is not replayed, and does not say it will be', async (t) => {
  const dir = await tempDir(t)
  const first = await open(dir)
  let refusal: unknown
  first.handle('webhook', async (_e, claim) => {
    await claim.started() // the first attempt reached its CLI (which was then killed)
    refusal = await claim.started(async () => { throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }) }).then(() => 'started', (err: unknown) => err)
  })
  await first.accept('webhook', 'retried', {})
  await first.stop(1000)
  await first.close()
  assert.ok(refusal instanceof ClaimRefused && refusal.reason === 'storage', String(refusal))
  assert.equal(refusal.replayed, false, 'its done mark is on disk: it is not run again')
  assert.deepEqual(await replayedWebhookKeys(t, dir), [])
})

test('claims through the runner: an album\'s done marks are one write, so a disk that fills up between two marks cannot start part of it and replay the rest alone', async (t) => {
  const dir = await tempDir(t)
  const { logger } = memoryLogger()
  const journal = await createJournal({ path: join(dir, 'inbox.jsonl') })
  // Each markStarted is its own write; `room` writes fit on the disk, then it is full.
  let room = 1
  const first = createInbox({
    journal: {
      ...journal,
      markStarted: async (seqs) => {
        if (room-- <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        await journal.markStarted(seqs)
      }
    },
    dedupe: await createDedupeStore({ path: join(dir, 'dedupe.jsonl') }),
    clock: systemClock,
    logger,
    gate: createClaimGate()
  })
  const run = await fakeCliRunner(t, dir, { add: async () => {}, remove: () => {}, close: async () => {} })
  // Telegram's album: the items' updates wait for one run made for all of them (src/telegram/album.ts).
  const albums = new Map<string, { claims: WorkClaim[], done: Promise<unknown>, go: () => void }>()
  const outcomes = new Map<string, unknown>()
  first.handle('webhook', async (e, claim) => {
    const name = e.key.slice(0, 1)
    let album = albums.get(name)
    if (album === undefined) {
      let go = (): void => {}
      const ready = new Promise<void>((resolve) => { go = resolve })
      const claims: WorkClaim[] = []
      const done = ready.then(async () => await run(name, allClaims(claims)))
      album = { claims, done, go }
      albums.set(name, album)
    }
    album.claims.push(claim)
    if (album.claims.length === 2) album.go()
    outcomes.set(name, await album.done)
  })
  await first.accept('webhook', 'a1', {})
  await first.accept('webhook', 'a2', {})
  await waitFor(async () => outcomes.has('a') ? true : undefined, 10_000, 'the first album\'s run to settle')
  await first.accept('webhook', 'b1', {})
  await first.accept('webhook', 'b2', {})
  await waitFor(async () => outcomes.has('b') ? true : undefined, 10_000, 'the second album\'s run to settle')
  await first.stop(1000)
  await first.close()

  assert.equal(outcomes.get('a'), 'success', 'room for one write: both marks land in it, and the album runs')
  const refused = outcomes.get('b')
  assert.ok(refused instanceof ClaimRefused && refused.reason === 'storage' && refused.replayed, String(refused))
  assert.equal(await readFile(join(dir, 'ran-b.json'), 'utf8').catch(() => 'never ran'), 'never ran', 'the refused album\'s CLI never started')
  assert.deepEqual(await replayedWebhookKeys(t, dir), ['b1', 'b2'], 'the refused album is replayed whole; none of the album that ran is')
})

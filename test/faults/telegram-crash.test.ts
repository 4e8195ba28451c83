// Process faults (issue 9): `kill -9` of the whole service under Telegram webhook load. A real
// `ductor serve --no-supervisor` in webhook mode (fake Bot API, fake CLIs recording each run) gets 50
// updates from 5 chats; it is killed with SIGKILL the moment the 30th is acknowledged, with more
// requests in flight. It is started again on the same home and, as Telegram does, every update that
// was not answered with 200 is delivered again. Every update then runs exactly once (counted over
// both lives by the prompts the fake CLI was started with), every run of the second life is answered
// in its chat, no CLI of the killed service outlives it, and nothing is left in the journal.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { killTree, tempDir, waitFor, spawnService, serviceUp } from '../helper.ts'
import { createJournal } from '../../src/store/journal.ts'
import { survivors } from './fault-helpers.ts'
import { CHATS, countMarkers, postUpdate, recordedRuns, textUpdate, telegramFaultHome } from './serve-helpers.ts'

const UPDATES = 50
const KILL_AFTER = 30

test('kill -9 under Telegram webhook load: every acknowledged update runs exactly once after the restart', { timeout: 120_000 }, async (t) => {
  const { fake, home } = await telegramFaultHome(t)
  const firstRuns = await tempDir(t)
  const secondRuns = await tempDir(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home }

  const updates = Array.from({ length: UPDATES }, (_, i) => {
    const chat = CHATS[i % CHATS.length]!
    const marker = `m-${chat}-${Math.floor(i / CHATS.length)}`
    return { update: textUpdate(7000 + i, chat, `please answer ${marker}`), chat, marker }
  })

  // First life: a CLI run takes ~0.5 s, so each chat's lane holds a queue when the kill comes.
  const first = await spawnService(t, { ...env, FAKE_CLI_DELAY_MS: '150', FAKE_CLI_RECORD_DIR: firstRuns })
  const info = await serviceUp(home)
  const acked = new Set<string>()
  let killed = false
  await Promise.all(updates.map(async (u, i) => {
    await sleep(i * 15)
    if (killed) return
    const res = await postUpdate(info.url, u.update)
    if (res.status !== 200 || killed) return
    acked.add(u.marker)
    if (acked.size === KILL_AFTER) {
      killed = true
      killTree(first.child)
    }
  }))
  assert.ok(killed, `the service was killed mid-load (${acked.size} acknowledged)\n${first.output().slice(-2000)}`)
  assert.equal(await first.exited, 137)
  // The killed service's CLIs lose their stdout and die by themselves: none may outlive it for long.
  await waitFor(() => survivors(home).length === 0 ? true : undefined, 20_000, 'the killed service\'s CLIs to end')

  // Second life on the same home, a fast CLI.
  const second = await spawnService(t, { ...env, FAKE_CLI_RECORD_DIR: secondRuns })
  const again = await serviceUp(home, info.pid)
  // Telegram delivers again every update it got no 200 for (refused connections, cut requests).
  const redelivered = updates.filter((u) => !acked.has(u.marker))
  for (const u of redelivered) {
    const res = await waitFor(async () => {
      const r = await postUpdate(again.url, u.update)
      return r.status === 200 ? r : undefined
    }, 20_000, `update ${u.marker} to be acknowledged`)
    assert.match(res.body, /"ok":true/)
  }

  const everyRun = async () => countMarkers([...await recordedRuns(firstRuns), ...await recordedRuns(secondRuns)])
  // Runs the first life had started (ADR 9: their update is done) and the kill cut off: closed as
  // `error:interrupted` by the second life. Their CLI may not have got as far as recording itself.
  const interrupted = async (): Promise<Map<string, number>> => {
    const lines = (await readFile(join(home, 'state', 'runs.jsonl'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '')
    const last = new Map<string, { chat_id: string, status: string }>()
    for (const line of lines) { const r = JSON.parse(line) as { id: string, chat_id: string, status: string }; last.set(r.id, r) }
    const perChat = new Map<string, number>()
    for (const r of last.values()) if (r.status === 'error:interrupted') perChat.set(r.chat_id, (perChat.get(r.chat_id) ?? 0) + 1)
    return perChat
  }
  const unrun = (counts: Map<string, number>) => updates.filter((u) => !counts.has(u.marker))
  const cutOff = (missing: typeof updates, perChat: Map<string, number>) => missing.every((u) => acked.has(u.marker) && missing.filter((m) => m.chat === u.chat).length <= (perChat.get(String(u.chat)) ?? 0))
  await waitFor(async () => cutOff(unrun(await everyRun()), await interrupted()) ? true : undefined, 60_000, 'every update to run').catch(async (err: Error) => {
    throw new Error(`${err.message}: ${unrun(await everyRun()).map((u) => u.marker).join(' ')}\nFIRST LIFE\n${first.output()}\nSECOND LIFE\n${second.output().slice(-4000)}`)
  })
  const replayedMarkers = countMarkers(await recordedRuns(secondRuns))
  const repliedTo = (u: { chat: number, marker: string }): number => fake.messages(u.chat).filter((m) => m.text.includes(u.marker)).length
  await waitFor(() => updates.every((u) => !replayedMarkers.has(u.marker) || repliedTo(u) >= 1) ? true : undefined, 30_000, 'every run of the second life to be answered').catch((err: Error) => {
    throw new Error(`${err.message}: ${updates.filter((u) => replayedMarkers.has(u.marker) && repliedTo(u) === 0).map((u) => u.marker).join(' ')}\n${second.output().slice(-4000)}`)
  })

  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0, second.output().slice(-2000))

  const counts = await everyRun()
  const twice = updates.filter((u) => (counts.get(u.marker) ?? 0) > 1).map((u) => `${u.marker}×${counts.get(u.marker) ?? 0}`)
  assert.deepEqual(twice, [], 'no update ran twice over both lives')
  const cut = unrun(counts)
  assert.ok(cutOff(cut, await interrupted()), `every update ran once, but for runs the kill interrupted: ${cut.map((u) => u.marker).join(' ')}`)
  assert.deepEqual(updates.filter((u) => repliedTo(u) > 1).map((u) => u.marker), [], 'no update was answered twice')
  assert.ok(replayedMarkers.size >= KILL_AFTER - 10, `most acknowledged updates were still queued at the kill and ran after it (${replayedMarkers.size})`)
  assert.deepEqual(survivors(home), [], 'no process of the home is left')
  const journal = await createJournal({ path: join(home, 'state', 'inbox.jsonl') })
  assert.deepEqual(journal.pending(), [], 'nothing is left to replay')
  await journal.close()
  t.diagnostic(`acknowledged before the kill ${acked.size}, delivered again ${redelivered.length}, run in the first life ${countMarkers(await recordedRuns(firstRuns)).size}, after the restart ${replayedMarkers.size}, started and cut off by the kill without a CLI record ${cut.length}`)
})

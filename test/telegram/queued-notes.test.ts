import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unresolvedNotes } from '../../src/telegram/queued-notes.ts'
import { cleanups, startBot, until, USER } from './helpers.ts'

/**
 * ADR 0050 §3, the graceful side (the `kill -9` side is test/faults/queued-notes-crash.test.ts): a
 * stop while messages wait leaves their "Queued" notes alone (replies get the stop's seconds), and the
 * next start removes them.
 */
test('a stop while messages wait: the next start deletes their Queued notes', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ductor-notes-'))
  t.after(async () => { await rm(home, { recursive: true, force: true }) })
  const first = cleanups()
  t.after(first.run)
  const before = await startBot(first, { home })
  const running = join(home, 'cli-running')
  await before.say(`long job [[hang-once:${running}]]`, { chatId: USER, from: USER })
  await until(() => existsSync(running), 'the first message\'s CLI to run')
  await before.say('then this [[reply:second done]]', { chatId: USER, from: USER })
  await before.say('and this [[reply:third done]]', { chatId: USER, from: USER })
  await until(() => before.fake.messages(USER).filter((m) => m.text.startsWith('⏳ Queued')).length === 2, 'two Queued notes')
  const notes = before.fake.messages(USER).filter((m) => m.text.startsWith('⏳ Queued')).map((m) => m.message_id)
  await before.stop()
  assert.equal(before.fake.messages(USER).filter((m) => m.text.startsWith('⏳ Queued')).length, 2, 'the stop left them')
  assert.match(await readFile(join(home, 'state', 'queued-notes.jsonl'), 'utf8'), new RegExp(`"s":\\[${USER},${notes[0]}\\]`))

  const second = cleanups()
  t.after(second.run)
  const after = await startBot(second, { home })
  await until(() => notes.every((id) => after.fake.callsOf('deleteMessage').some((c) => Number(c.params.chat_id) === USER && Number(c.params.message_id) === id)), 'the earlier notes deleted')
  await until(() => after.texts(USER).includes('third done'), 'the waiting messages answered after the restart')
  await after.stop()
  assert.deepEqual(unresolvedNotes(await readFile(join(home, 'state', 'queued-notes.jsonl'), 'utf8')), [], 'nothing left for the next start')
})

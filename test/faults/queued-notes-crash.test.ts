// ADR 0050 §3: the "⏳ Queued" notes (with a Cancel button) shown for messages waiting behind a
// running one are not left in the chat for ever when the service dies before they are resolved. A
// real `ductor serve --no-supervisor` in webhook mode (fake Bot API, fake CLIs) runs one message whose
// CLI hangs while two more wait behind it, each with its note; the service is killed with SIGKILL
// and started again on the same home. The second life deletes both notes (their messages are replayed
// and answered), so no dead button stays.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { killTree, tempDir, waitFor, spawnService, serviceUp } from '../helper.ts'
import type { StoredMessage } from '../fakes/bot-api/server.ts'
import { CHATS, postUpdate, recordedRuns, textUpdate, telegramFaultHome } from './serve-helpers.ts'

const CHAT = CHATS[0]
const isNote = (m: StoredMessage): boolean => m.text.startsWith('⏳ Queued')
const hasButton = (m: StoredMessage): boolean => JSON.stringify(m.reply_markup ?? {}).includes('callback_data')

test('kill -9 while messages wait behind a running one: the next start removes their Queued notes; no dead button stays', { timeout: 120_000 }, async (t) => {
  const { fake, home } = await telegramFaultHome(t)
  const runs = await tempDir(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home, FAKE_CLI_RECORD_DIR: runs }

  const first = await spawnService(t, env)
  const info = await serviceUp(home)
  assert.equal((await postUpdate(info.url, textUpdate(9100, CHAT, 'think long about this [[hang]]'))).status, 200)
  await waitFor(async () => (await recordedRuns(runs)).length === 1 ? true : undefined, 30_000, 'the first message\'s CLI to run')
  assert.equal((await postUpdate(info.url, textUpdate(9101, CHAT, 'then this [[reply:answer to the second]]'))).status, 200)
  assert.equal((await postUpdate(info.url, textUpdate(9102, CHAT, 'and this [[reply:answer to the third]]'))).status, 200)
  const notes = await waitFor(() => {
    const shown = fake.messages(CHAT).filter((m) => isNote(m) && hasButton(m))
    return shown.length === 2 ? shown : undefined
  }, 30_000, 'two Queued notes with their Cancel button')
  // A note is recorded right after Telegram answered with its id: give that write a moment before the kill.
  await new Promise((resolve) => setTimeout(resolve, 200))
  killTree(first.child)
  assert.equal(await first.exited, 137)

  const second = await spawnService(t, env)
  await serviceUp(home, info.pid)
  await waitFor(() => ['answer to the second', 'answer to the third'].every((a) => fake.messages(CHAT).some((m) => m.text === a)) ? true : undefined, 60_000, 'both waiting messages to be answered after the restart')
    .catch((err: Error) => { throw new Error(`${err.message}\n${JSON.stringify(fake.messages(CHAT).map((m) => m.text))}\n${second.output().slice(-3000)}`) })
  await waitFor(() => notes.every((n) => fake.allMessages(CHAT).find((m) => m.message_id === n.message_id)?.deleted === true) ? true : undefined, 30_000, 'the earlier life\'s notes to be deleted')
    .catch((err: Error) => { throw new Error(`${err.message}\n${JSON.stringify(fake.messages(CHAT).map((m) => [m.text, hasButton(m)]))}\n${second.output().slice(-3000)}`) })
  assert.deepEqual(fake.messages(CHAT).filter((m) => isNote(m) && hasButton(m)).map((m) => m.text), [], 'no Queued note with a button is left')

  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0, second.output().slice(-2000))
})

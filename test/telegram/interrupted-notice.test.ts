import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRunHistory } from '../../src/store/run-history.ts'
import { GROUP, STRANGER, USER, startBot, until } from './helpers.ts'

const NOTICE = '⚠️ ductor restarted while your last message was being handled. If its answer does not follow shortly, send the message again.'
const CRASHED_GROUP = -100777
const WAKE_CHAT = 113

test('after a crash or a graceful stop, a group chat whose run was cut off is told once, like a private chat; a wake webhook\'s chat is told which event; a private chat of a user no longer allowed is not', async (t) => {
  const bot = await startBot(t, {
    mode: 'polling',
    prepare: async (paths) => {
      await mkdir(paths.state, { recursive: true })
      // The last life died (kill -9) under a group's run and a private chat's run: both left `running`.
      const runs = await createRunHistory({ path: join(paths.state, 'runs.jsonl') })
      await runs.start({ kind: 'chat', chat_id: CRASHED_GROUP })
      await runs.start({ kind: 'chat', chat_id: USER })
      await runs.start({ kind: 'chat', chat_id: STRANGER })
      // A `wake` webhook's run streaming into a chat.
      await runs.start({ kind: 'webhook', ref: 'ci-failure', chat_id: WAKE_CHAT })
      await runs.close()
      // ... and a graceful stop before that cut off another group's run.
      await writeFile(join(paths.state, 'cut-off-chats.json'), JSON.stringify({ chat_ids: [GROUP] }))
    }
  })
  for (const chat of [CRASHED_GROUP, GROUP, USER]) await bot.waitMessage((m) => m.text === NOTICE, `the notice in chat ${chat}`, chat)
  await until(() => bot.fake.callsOf('setMyCommands').length > 0, 'the bot to be ready')
  for (const chat of [CRASHED_GROUP, GROUP, USER]) assert.equal(bot.texts(chat).filter((text) => text === NOTICE).length, 1, `chat ${chat} is told once`)
  assert.deepEqual(bot.texts(STRANGER), [], 'a user no longer on the allow list is not written to')
  const wake = await bot.waitMessage((m) => m.text.includes('webhook "ci-failure"'), 'the webhook\'s notice', WAKE_CHAT)
  assert.match(wake.text, /not run again/)
  assert.deepEqual(bot.texts(WAKE_CHAT), [wake.text], 'one notice, about the event, not about a message of theirs')
})

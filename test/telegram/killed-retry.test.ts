import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { cleanups, scriptMarker, startBot, until, type BotHarness } from './helpers.ts'

/**
 * ADR 0050 §2: a CLI killed from outside (the OOM killer's SIGKILL) is retried once with a fresh
 * session. The retry's reply starts a message of its own: the killed attempt's partial text stays
 * in its message, marked as cut off, and is never glued to the retry's text.
 */

const PARTIAL = 'Half of the first answer'
const RETRY = 'The whole second answer.'

for (const drafts of [true, false]) {
  describe(`a killed run retried, drafts ${drafts ? 'on' : 'off'}`, () => {
    let bot: BotHarness
    let dir: string
    const cleanup = cleanups()
    after(cleanup.run)
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ductor-killed-'))
      cleanup.after(async () => { await rm(dir, { recursive: true, force: true }) })
      bot = await startBot(cleanup, { config: { streaming: { enabled: true, edit_interval_seconds: 1 } } })
      if (!drafts) bot.fake.fail('sendMessageDraft', { status: 400, description: 'Bad Request: method is not available' }, 10_000)
    })

    test('the retry\'s reply is a message of its own; the killed attempt\'s text stays apart, marked as cut off', async () => {
      const chat = drafts ? 111 : 112
      const first = await scriptMarker(dir, [{ delta: `${PARTIAL}, ` }, { delta: 'streamed live' }], 'never sent: the CLI is killed before its result')
      const retry = await scriptMarker(dir, [{ delta: 'The whole ' }, { delta: 'second answer.' }], RETRY)
      const pidFile = join(dir, `pid-${chat}`)
      const retryPath = /\[\[transcript:([^\]]+)\]\]/.exec(retry)?.[1] as string
      // Each line of both attempts 200 ms apart: the retry streams long enough to be shown live.
      await bot.say(`answer me ${first} [[hang-once:${pidFile}]] [[retry-transcript:${retryPath}]] [[delay:200]]`, { chatId: chat, from: chat })

      // The first attempt's text is on screen (a draft or a message), then the OOM killer strikes.
      const shown = (): boolean => bot.fake.calls.some((c) => Number(c.params.chat_id) === chat && c.ok && String(c.params.text ?? '').includes('streamed live'))
      await until(() => existsSync(pidFile) && shown(), 'the first attempt\'s text on screen')
      process.kill(Number(await readFile(pidFile, 'utf8')), 'SIGKILL')

      await bot.waitMessage((m) => m.text === RETRY, 'the retry\'s reply as a message of its own', chat)
      await until(() => !bot.app.orchestrator.isBusy(String(chat)), 'the run to end')
      // Nothing Telegram was ever asked to show holds both attempts' text.
      const glued = bot.fake.calls.filter((c) => Number(c.params.chat_id) === chat && String(c.params.text ?? '').includes(PARTIAL) && String(c.params.text ?? '').includes('second answer'))
      assert.deepEqual(glued.map((c) => `${c.method}: ${String(c.params.text)}`), [])
      const texts = bot.texts(chat)
      const cut = texts.findIndex((t) => t.includes(PARTIAL))
      const notice = texts.findIndex((t) => t.includes('Recovering with a fresh session'))
      const answer = texts.indexOf(RETRY)
      assert.ok(cut !== -1, `the partial text stays in the chat: ${JSON.stringify(texts)}`)
      assert.match(texts[cut] as string, /cut off/i, 'marked as cut off')
      assert.ok(cut < notice && notice < answer, `partial, then the notice, then the retry's reply: ${JSON.stringify(texts)}`)
    })
  })
}

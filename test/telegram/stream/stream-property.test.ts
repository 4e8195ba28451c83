import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import fc from 'fast-check'
import { Api } from 'grammy'
import { createFakeBotApi } from '../../fakes/bot-api/server.ts'
import type { Fault } from '../../fakes/bot-api/server.ts'
import { telegramLikeLimits } from '../../fakes/bot-api/rate-limit.ts'
import { createVirtualClock } from '../../fakes/bot-api/virtual-clock.ts'
import { createStreamEditor } from '../../../src/telegram/stream/stream-editor.ts'
import { streamApiFromGrammy } from '../../../src/telegram/stream/grammy-api.ts'
import { markdown } from '../format/helpers.ts'
import { assertChatHolds, assertChatShowsPiecesOf, assertNeverNotModified, expectedText } from './helpers.ts'

const trouble = fc.oneof(
  fc.record({
    kind: fc.constant('fault' as const),
    method: fc.constantFrom('sendMessage', 'editMessageText', 'deleteMessage'),
    fault: fc.oneof(
      fc.integer({ min: 1, max: 9 }).map((retryAfter): Fault => ({ status: 429, retryAfter })),
      fc.constant<Fault>({ status: 500 }),
      fc.constant<Fault>({ status: 'drop' })
    )
  }),
  fc.constant({ kind: 'user-deletes-last' as const })
)

// A message the user deletes is replaced only if the stream still has to change it (Telegram tells
// a bot nothing about deletions otherwise), so after a deletion the chat may lack that piece, but it
// never shows anything that is not the reply, in order.
test('any reply, cut into any deltas, with 429s, errors and deleted messages, ends as exactly the final text', async (t) => {
  const clock = createVirtualClock()
  const fake = createFakeBotApi({ now: clock.now, rateLimits: telegramLikeLimits })
  await fake.start()
  t.after(() => fake.close())
  const api = new Api(fake.token, { apiRoot: fake.apiRoot })
  let chat = 1000
  await fc.assert(fc.asyncProperty(
    markdown.map((md) => md.repeat(3)),
    fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }),
    fc.array(fc.tuple(fc.nat(30), trouble), { maxLength: 4 }),
    fc.constantFrom('edit', 'append', 'draft'),
    // The final text of a multi-turn run is only its last turn: sometimes not what streamed.
    fc.option(markdown, { freq: 3 }),
    fc.array(fc.nat(30), { maxLength: 3 }),
    async (md, cuts, troubles, mode, otherFinal, toolSteps) => {
      const chatId = ++chat
      fake.clearFaults()
      const stream = createStreamEditor({
        api: streamApiFromGrammy(api),
        chatId,
        clock,
        sleep: clock.sleep,
        setTimer: clock.setTimer,
        useDrafts: mode === 'draft',
        settings: { append_mode: mode === 'append', min_chars: 50 }
      })
      let at = 0
      let userDeleted = false
      for (const [step, cut] of cuts.entries()) {
        for (const [when, what] of troubles) {
          if (when !== step) continue
          if (what.kind === 'fault') fake.fail(what.method, what.fault)
          else {
            const last = fake.messages(chatId).at(-1)
            if (last !== undefined) {
              fake.userDeletes(chatId, last.message_id)
              userDeleted = true
            }
          }
        }
        if (toolSteps.includes(step)) stream.push({ type: 'tool', name: 'Bash', summary: 'ls' })
        stream.push({ type: 'text', text: md.slice(at, at + cut) })
        at += cut
        clock.advance(300)
        await delay(1)
      }
      stream.push({ type: 'text', text: md.slice(at) })
      const final = otherFinal ?? md
      const outcome = await stream.finish(final)
      assert.equal(outcome.delivered, true)
      if (expectedText(final).trim() === '') assert.deepEqual(fake.messages(chatId), [])
      else if (userDeleted) assertChatShowsPiecesOf(fake, final, chatId)
      else assertChatHolds(fake, final, chatId)
      assertNeverNotModified(fake)
    }
  ), { numRuns: Number(process.env.FC_RUNS ?? 40) })
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { createChatPacer, isPacedMethod } from '../../src/telegram/pace.ts'
import { createRateLimiter, telegramLikeLimits } from '../fakes/bot-api/rate-limit.ts'
import { createVirtualClock } from '../fakes/bot-api/virtual-clock.ts'
import { waitFor } from '../helper.ts'

test('a private chat: two at once, then one a second, in the order asked; other chats do not wait', async () => {
  const clock = createVirtualClock()
  const pacer = createChatPacer({ now: clock.now, sleep: clock.sleep })
  const start = clock.now()
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    await pacer.acquire(7)
    times.push(clock.now() - start)
  }
  assert.deepEqual(times, [0, 0, 1000, 2000, 3000])
  assert.equal(pacer.delay(8), 0, 'another chat is free')
  assert.ok(pacer.delay(7) > 0)
  // Callers at the same time get their slots in the order they asked.
  const order: number[] = []
  await Promise.all([1, 2, 3, 4].map(async (n) => { await pacer.acquire(9); order.push(n) }))
  assert.deepEqual(order, [1, 2, 3, 4])
})

test('a group: never more than 20 in a minute; a reserve keeps room for the final reply', async () => {
  const clock = createVirtualClock()
  const pacer = createChatPacer({ now: clock.now, sleep: clock.sleep })
  const group = -100123
  const start = clock.now()
  const times: number[] = []
  for (let i = 0; i < 25; i++) {
    await pacer.acquire(group)
    times.push(clock.now() - start)
  }
  for (let i = 20; i < times.length; i++) assert.ok((times[i] as number) - (times[i - 20] as number) > 60_000, `message ${i} was the 21st within a minute`)
  // 17 previews leave 3 slots: a preview waits, the final reply does not.
  const fresh = createChatPacer({ now: clock.now, sleep: clock.sleep })
  for (let i = 0; i < 17; i++) {
    await fresh.acquire(group)
    clock.advance(1000)
  }
  assert.ok(fresh.delay(group, 3) > 0, 'a preview waits')
  assert.equal(fresh.delay(group, 0), 0, 'the final reply goes')
})

test('paced at Telegram-like limits, a burst of 40 messages to a private chat and to a group gets no 429', async () => {
  const clock = createVirtualClock()
  const pacer = createChatPacer({ now: clock.now, sleep: clock.sleep })
  const fake = createRateLimiter(clock.now)
  for (const chat of [5, -100200]) {
    const refused: number[] = []
    for (let i = 0; i < 40; i++) {
      await pacer.acquire(chat)
      // Arriving a little late (the network) must not matter.
      clock.advance(i % 7 === 0 ? 300 : 5)
      refused.push(fake.take(String(chat), chat > 0 ? telegramLikeLimits.private : telegramLikeLimits.group))
    }
    assert.deepEqual(refused.filter((r) => r > 0), [], `429s in chat ${chat}`)
  }
})

test('what is paced: messages and edits, not typing, drafts, callbacks or deletes', () => {
  for (const m of ['sendMessage', 'sendPhoto', 'sendDocument', 'editMessageText', 'editMessageReplyMarkup', 'copyMessage']) assert.ok(isPacedMethod(m), m)
  for (const m of ['sendChatAction', 'sendMessageDraft', 'answerCallbackQuery', 'deleteMessage', 'getUpdates', 'setMyCommands']) assert.ok(!isPacedMethod(m), m)
})

test('a caller whose signal aborts leaves the line without taking a slot; the next one gets it (indicators dropped at shutdown)', async () => {
  const clock = createVirtualClock()
  const pacer = createChatPacer({ now: clock.now, sleep: clock.sleep })
  const start = clock.now()
  await pacer.acquire(5)
  await pacer.acquire(5) // the burst is spent: the next slot is 1 s away
  const shutdown = new AbortController()
  const dropped = Array.from({ length: 3 }, async () => await pacer.acquire(5, shutdown.signal).then(() => 'sent', () => 'dropped'))
  const reply = pacer.acquire(5).then(() => clock.now() - start)
  shutdown.abort(new Error('ductor is shutting down'))
  assert.deepEqual(await Promise.all(dropped), ['dropped', 'dropped', 'dropped'])
  assert.equal(await reply, 1000, 'the reply behind them takes the first free slot')
  assert.equal(await pacer.acquire(5, AbortSignal.abort()).then(() => 'sent', () => 'dropped'), 'dropped')
})

test('close lets every caller still waiting for its chat\'s pace go (rejects) and refuses later ones: a closed adapter keeps no timer alive', async () => {
  const pacer = createChatPacer()
  await pacer.acquire(7)
  await pacer.acquire(7)
  await pacer.acquire(7)
  const waiting = pacer.acquire(7) // the fourth in a second waits for a slot
  const started = Date.now()
  pacer.close()
  await assert.rejects(waiting, /the Telegram adapter is closed/)
  assert.ok(Date.now() - started < 500, 'released at once, not after its wait')
  await assert.rejects(pacer.acquire(8), /the Telegram adapter is closed/)
})

test('close also clears the timer of the wait it cut short: a group waiting out its minute keeps no process alive', async () => {
  // One message a minute, as a group that spent its 20: the caller in line sleeps ~60 s.
  const pacer = createChatPacer({ rules: { private: { burst: 1, perSecond: 1 }, group: { burst: 1, perSecond: 1, window: { count: 1, ms: 60_000 } } } })
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  await pacer.acquire(-100)
  const waiting = pacer.acquire(-100)
  await waitFor(async () => timers() > before ? true : undefined, 5000, 'the wait for the next slot')
  pacer.close()
  await assert.rejects(waiting, /the Telegram adapter is closed/)
  await waitFor(async () => timers() <= before ? true : undefined, 5000, 'the wait\'s timer cleared (it used to live on for the rest of the minute)')
})

test('a send leaves no listener behind on the signals it waited on: hundreds of replies keep no closure alive and Node never warns of a leak', async () => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  try {
    let t = 0 // a clock the waits move on
    const pacer = createChatPacer({ now: () => t, sleep: async (ms) => { t += ms } })
    // grammY hands every call of a bot the same long-lived signal; the adapter's close signal is one too.
    const bots = new AbortController()
    for (let i = 0; i < 50; i++) await pacer.acquire(11, bots.signal)
    for (let i = 0; i < 50; i++) await pacer.acquire(12)
    assert.equal(getEventListeners(bots.signal, 'abort').length, 0, 'the caller\'s signal is left as it was given')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), [])
    pacer.close()
  } finally {
    process.off('warning', onWarning)
  }
})

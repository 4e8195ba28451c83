import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { assertChatHolds, assertNeverNotModified, chatId, setup, streamText, waitFor } from './helpers.ts'
import { createStreamEditor } from '../../../src/telegram/stream/stream-editor.ts'
import { streamApiFromGrammy } from '../../../src/telegram/stream/grammy-api.ts'

const reply = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: **some** text & more text to read.`).join('\n\n')

test('a streamed message the user deleted is replaced by new messages', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor()
  await streamText(stream, clock, reply.slice(0, 200), 50, 300)
  const first = fake.messages(chatId)[0]
  assert.ok(first !== undefined)
  fake.userDeletes(chatId, first.message_id)
  await streamText(stream, clock, reply.slice(200), 50, 300)
  const outcome = await stream.finish()
  assert.ok(fake.callsOf('editMessageText').some((c) => c.description === 'Bad Request: message to edit not found'))
  assertChatHolds(fake, reply)
  assert.ok(!outcome.messageIds.includes(first.message_id))
  assertNeverNotModified(fake)
})

test('after max_edit_failures failed edits in a row the stream sends new messages instead', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { max_edit_failures: 3 } })
  fake.fail('editMessageText', { status: 500 }, 3)
  const stream = editor()
  await streamText(stream, clock, reply, 40, 700)
  const outcome = await stream.finish()
  assert.equal(outcome.degraded, true)
  assert.equal(outcome.delivered, true)
  assertChatHolds(fake, reply)
  const failedEdits = fake.callsOf('editMessageText').filter((c) => !c.ok)
  assert.equal(failedEdits.length, 3)
  // No edit was tried after the stream degraded, and the stale message was removed.
  const degradedAt = failedEdits[2]?.at ?? 0
  assert.ok(fake.callsOf('editMessageText').every((c) => c.at <= degradedAt))
  assert.equal(fake.allMessages(chatId).filter((m) => m.deleted).length, 1)
})

test('a transient 500 or a dropped connection is retried without degrading', async (t) => {
  const { fake, clock, editor } = await setup(t)
  fake.fail('editMessageText', { status: 500 }, 1)
  fake.fail('editMessageText', { status: 'drop' }, 1)
  const stream = editor()
  await streamText(stream, clock, reply, 40, 700)
  const outcome = await stream.finish()
  assert.equal(outcome.degraded, false)
  assert.equal(fake.messages(chatId).length, 1)
  assertChatHolds(fake, reply)
})

test('HTML that Telegram rejects is sent again as plain text, nothing lost', async (t) => {
  const { fake, editor } = await setup(t)
  fake.fail('sendMessage', { status: 400, description: 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0' }, 1)
  const stream = editor()
  const md = 'A **bold** claim & a `code` span.'
  stream.push({ type: 'result', result: { text: md } })
  await stream.finish()
  const sends = fake.callsOf('sendMessage')
  assert.equal(sends.length, 2)
  assert.equal(sends[1]?.params.parse_mode, undefined)
  assert.equal(sends[1]?.params.text, 'A bold claim & a code span.')
  assertChatHolds(fake, md)
})

test('if Telegram stays unreachable the final reply gives up instead of hanging', async (t) => {
  const { fake, editor } = await setup(t)
  fake.fail('*', { status: 502 }, 1000)
  const stream = editor()
  stream.push({ type: 'text', text: 'hello' })
  await delay(10)
  const outcome = await stream.finish()
  assert.equal(outcome.delivered, false)
  assert.deepEqual(fake.messages(chatId), [])
})

test('the adapter closing ends a stream whose final reply keeps failing: it resolves undelivered at once, tries nothing more and keeps no timer', async (t) => {
  const { fake, api } = await setup(t)
  fake.fail('*', { status: 502 }, 1000)
  const closed = new AbortController()
  // The real clock and sleep: the backoff between attempts is a real timer, as in the service.
  const stream = createStreamEditor({ api: streamApiFromGrammy(api), chatId, signal: closed.signal })
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  stream.push({ type: 'text', text: 'hello' })
  const outcome = stream.finish()
  await waitFor(() => fake.callsOf('sendMessage').length >= 2, 'two failed attempts at the final reply', 20_000)
  closed.abort()
  // Settled within the same turn of the event loop, not after the backoff (which grows to 30 s, 8 tries).
  const settled = await Promise.race([outcome.then(() => true), new Promise<boolean>((resolve) => { setImmediate(() => { resolve(false) }) })])
  assert.equal(settled, true, 'finish() resolves as soon as the adapter closes')
  assert.equal((await outcome).delivered, false)
  const tried = fake.callsOf('sendMessage').length
  await waitFor(() => timers() <= before, 'the backoff timer cleared', 5000)
  await delay(50)
  assert.equal(fake.callsOf('sendMessage').length, tried, 'no attempt after the close')
  // A stream made after the close ends at once too.
  const late = createStreamEditor({ api: streamApiFromGrammy(api), chatId, signal: closed.signal })
  late.push({ type: 'text', text: 'too late' })
  assert.equal((await late.finish()).delivered, false)
  assert.equal(fake.callsOf('sendMessage').length, tried)
})

test('cancel stops the stream without a final update', async (t) => {
  const { fake, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'text', text: 'partial' })
  await waitFor(() => fake.messages(chatId).length === 1, 'the first message')
  stream.cancel()
  const outcome = await stream.finish()
  assert.equal(outcome.delivered, false)
  stream.push({ type: 'text', text: ' more' })
  await delay(20)
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['partial'])
})

test('a failed delete of a message that is no longer part of the reply is retried', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 10 } })
  fake.fail('deleteMessage', { status: 500 }, 2)
  const stream = editor()
  await streamText(stream, clock, 'Checking the logs first.\n\nThen the config.\n\nStill looking.\n\n', 100, 1000)
  await waitFor(() => fake.messages(chatId).length >= 1, 'a chunk sent while streaming')
  const outcome = await stream.finish('The answer is 42.')
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['The answer is 42.'])
  assert.equal(fake.callsOf('deleteMessage').filter((c) => !c.ok).length, 2)
  assert.equal(outcome.delivered, true)
})

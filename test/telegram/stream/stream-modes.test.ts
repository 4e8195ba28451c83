import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { assertChatHolds, chatId, setup, streamText, waitFor } from './helpers.ts'

const reply = Array.from({ length: 30 }, (_, i) => `Paragraph ${i}: _some_ words, and then a few more words to read.`).join('\n\n')

test('append_mode sends coalesced chunks as new messages and never edits', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 200, max_chars: 1000 } })
  const stream = editor()
  await streamText(stream, clock, reply, 30, 200)
  await waitFor(() => fake.callsOf('sendMessage').length >= 2, 'chunks sent while streaming')
  await stream.finish()
  assert.equal(fake.callsOf('editMessageText').length, 0)
  assertChatHolds(fake, reply)
  for (const m of fake.messages(chatId)) assert.ok(m.text.length <= 1000 || !m.text.includes('\n\n'), 'chunk above max_chars')
})

test('append_mode flushes a short pending chunk once the CLI is idle for idle_ms', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 500, idle_ms: 800 } })
  const stream = editor()
  stream.push({ type: 'text', text: 'First short paragraph.\n\nSecond one.\n\nThird' })
  await delay(20)
  assert.equal(fake.messages(chatId).length, 0, 'below min_chars: waits')
  clock.advance(900)
  await waitFor(() => fake.messages(chatId).length === 1, 'the idle flush')
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['First short paragraph.\n\nSecond one.'])
  await stream.finish('First short paragraph.\n\nSecond one.\n\nThird one, complete.')
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['First short paragraph.\n\nSecond one.', 'Third one, complete.'])
})

const sentences = Array.from({ length: 12 }, (_, i) => `Sentence ${i} says a few words, then **bold. Still bold** words to read.`).join(' ')

test('append_mode with sentence_break (the default): a long paragraph goes out sentence by sentence, never cut inside bold', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 150, max_chars: 4000 } })
  const stream = editor()
  await streamText(stream, clock, sentences, 25, 200)
  await waitFor(() => fake.messages(chatId).length >= 2, 'sentences sent while the paragraph is written')
  for (const m of fake.messages(chatId)) assert.match(m.text, /read\.$/, 'a chunk ends at a sentence end')
  const bolds = fake.callsOf('sendMessage').map((c) => String(c.params.text))
  for (const html of bolds) assert.equal(html.split('<b>').length, html.split('</b>').length, 'bold cut open')
  await stream.finish()
  assert.equal(fake.callsOf('editMessageText').length, 0)
  assert.equal(fake.callsOf('deleteMessage').length, 0, 'what was sent stands in the final reply')
  assertChatHolds(fake, sentences)
})

test('append_mode with sentence_break false: a paragraph goes out only whole', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 150, sentence_break: false } })
  const stream = editor()
  await streamText(stream, clock, sentences, 25, 200)
  await delay(20)
  assert.equal(fake.messages(chatId).length, 0, 'nothing before the paragraph ends')
  await stream.finish()
  assert.deepEqual(fake.messages(chatId).length, 1)
  assertChatHolds(fake, sentences)
})

test('append_mode with sentence_break: a final reply that rewrote a sent sentence replaces it', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 10 } })
  const stream = editor()
  await streamText(stream, clock, 'First try. Second sentence is being writ', 100, 1000)
  await waitFor(() => fake.messages(chatId).length === 1, 'the first sentence')
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['First try.'])
  await stream.finish('Another answer. Second sentence, complete.')
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['Another answer. Second sentence, complete.'])
})

test('append_mode: a final reply that differs from what was sent replaces the differing chunks', async (t) => {
  const { fake, clock, editor } = await setup(t, { settings: { append_mode: true, min_chars: 10 } })
  const stream = editor()
  await streamText(stream, clock, 'I will look.\n\nChecking files now.\n\nStill going.\n\n', 100, 1000)
  stream.push({ type: 'tool', name: 'Bash', summary: 'ls' })
  stream.push({ type: 'result', result: { text: 'Here is the answer.\n\n[button:Thanks]' } })
  await stream.finish()
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['Here is the answer.'])
  assert.ok(fake.messages(chatId)[0]?.reply_markup !== undefined)
})

test('sendMessageDraft streams the live part in a private chat; the final message is sent once', async (t) => {
  const { fake, clock, editor } = await setup(t, { useDrafts: true, draftId: 77 })
  const stream = editor()
  await streamText(stream, clock, reply, 25, 300)
  await waitFor(() => fake.callsOf('sendMessageDraft').length >= 3, 'drafts while streaming')
  assert.equal(fake.callsOf('sendMessage').length, 0, 'a short reply lives only in the draft')
  assert.ok(fake.callsOf('sendMessageDraft').every((c) => Number(c.params.draft_id) === 77))
  await stream.finish()
  assert.equal(fake.callsOf('sendMessage').length, 1)
  assert.equal(fake.callsOf('editMessageText').length, 0)
  assert.equal(fake.draft(chatId), undefined)
  assertChatHolds(fake, reply)
})

test('drafts: a long pause re-sends the draft before it fades; a reply over 4096 seals full parts as messages', async (t) => {
  const { fake, clock, editor } = await setup(t, { useDrafts: true })
  const stream = editor()
  stream.push({ type: 'tool', name: 'Bash', summary: 'ls' })
  await waitFor(() => fake.callsOf('sendMessageDraft').length === 1, 'the first draft')
  // Let virtual time pass in steps until the draft is sent again.
  await waitFor(() => { clock.advance(1000); return fake.callsOf('sendMessageDraft').length === 2 }, 'the keep-alive draft')
  const [first, again] = fake.callsOf('sendMessageDraft')
  assert.deepEqual([first?.params.text, again?.params.text], ['<i>[TOOL: Bash]</i>', '<i>[TOOL: Bash]</i>'])
  const pause = (again?.at ?? 0) - (first?.at ?? 0)
  assert.ok(pause >= 20_000 && pause <= 30_000, `re-sent after ${pause} ms`)
  const long = reply.repeat(5)
  assert.ok(long.length > 8000)
  await streamText(stream, clock, long, 400, 300)
  await waitFor(() => fake.callsOf('sendMessage').length >= 1, 'a full part sent as a real message')
  await stream.finish()
  assertChatHolds(fake, long)
})

test('drafts fall back to editing a message when Telegram refuses them', async (t) => {
  const { fake, clock, editor } = await setup(t, { useDrafts: true })
  fake.fail('sendMessageDraft', { status: 400, description: 'Bad Request: method is available only for bots with forum topic mode enabled' }, 1)
  const stream = editor()
  await streamText(stream, clock, reply, 40, 700)
  await waitFor(() => fake.callsOf('editMessageText').length >= 1, 'edits instead of drafts')
  await stream.finish()
  assert.equal(fake.callsOf('sendMessageDraft').length, 1)
  assertChatHolds(fake, reply)
})

test('forum topics and replies: every message goes to the thread, the first replies to the user', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor({ chatId: -1009, threadId: 12, replyToMessageId: 5, useDrafts: true })
  await streamText(stream, clock, reply.repeat(3), 300, 500)
  await stream.finish()
  const sends = fake.callsOf('sendMessage')
  assert.ok(sends.length >= 2)
  assert.ok(sends.every((c) => Number(c.params.message_thread_id) === 12))
  assert.deepEqual(sends[0]?.params.reply_parameters, { message_id: 5, allow_sending_without_reply: true })
  assert.ok(sends.slice(1).every((c) => c.params.reply_parameters === undefined))
  assert.equal(fake.callsOf('sendMessageDraft').length, 0, 'drafts are for private chats only')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { assertChatHolds, assertNeverNotModified, chatId, setup, streamText, waitFor, writes } from './helpers.ts'
import { telegramLikeLimits } from '../../fakes/bot-api/rate-limit.ts'

const longReply = Array.from({ length: 70 }, (_, i) =>
  `### Part ${i}\n\nSome **bold** and _italic_ text with \`code <x>\` & a [link](https://ex.com/${i}).` +
  ' More words follow here to make the paragraph long enough.'.repeat(2)).join('\n\n') +
  '\n\n```python\n' + Array.from({ length: 40 }, (_, i) => `print("line ${i} <&>")`).join('\n') + '\n```\n'

test('first text is sent at once, then one message is edited no more often than the interval', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'text', text: 'Hel' })
  await waitFor(() => fake.messages(chatId).length === 1, 'the first message')
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['Hel'], 'the first delta shows at once')
  const reply = 'Hello there! ' + 'This reply grows word by word. '.repeat(30)
  await streamText(stream, clock, reply.slice(3), 10, 100)
  const outcome = await stream.finish()
  assertChatHolds(fake, reply)
  assert.equal(fake.messages(chatId).length, 1)
  assert.deepEqual(outcome.messageIds, [fake.messages(chatId)[0]?.message_id])
  const edits = fake.callsOf('editMessageText')
  assert.ok(edits.length >= 3, `only ${edits.length} edits`)
  const times = [fake.callsOf('sendMessage')[0]?.at ?? 0, ...edits.map((c) => c.at)]
  for (let i = 1; i < times.length - 1; i++) assert.ok((times[i] as number) - (times[i - 1] as number) >= 2000, 'edited faster than edit_interval_seconds')
  assertNeverNotModified(fake)
})

test('a 10,000-character reply becomes several valid messages with nothing lost', async (t) => {
  const { fake, clock, editor } = await setup(t)
  assert.ok(longReply.length > 10_000)
  const stream = editor()
  await streamText(stream, clock, longReply, 120, 200)
  // Overflow seals a message and continues in a new one while still streaming.
  await waitFor(() => fake.callsOf('sendMessage').length >= 2, 'a second message before the end')
  stream.push({ type: 'result', result: { text: longReply, isError: false } })
  const outcome = await stream.finish()
  assert.ok(fake.messages(chatId).length >= 3)
  assertChatHolds(fake, longReply)
  assert.ok(fake.calls.every((c) => c.ok), 'every call succeeded')
  assert.ok(fake.callsOf('sendMessage').every((c) => c.params.parse_mode === 'HTML'))
  assert.equal(outcome.messageIds.length, fake.messages(chatId).length)
  assert.equal(outcome.delivered, true)
})

test('429 bursts: waits retry_after, coalesces, loses no text', async (t) => {
  const { fake, clock, editor } = await setup(t, { rateLimits: telegramLikeLimits })
  fake.fail('editMessageText', { status: 429, retryAfter: 5 }, 3)
  fake.fail('sendMessage', { status: 429, retryAfter: 2 }, 1)
  const stream = editor()
  await streamText(stream, clock, longReply, 200, 100)
  await stream.finish(longReply)
  assertChatHolds(fake, longReply)
  const limited = fake.calls.filter((c) => c.errorCode === 429)
  assert.ok(limited.length >= 4)
  for (const c of limited) {
    const retry = Number(/retry after (\d+)/.exec(c.description ?? '')?.[1])
    const next = fake.calls.find((x) => x.at > c.at && writes(fake).includes(x))
    if (next !== undefined) assert.ok(next.at - c.at >= retry * 1000, `retried ${next.at - c.at} ms after a ${retry} s retry_after`)
  }
  assertNeverNotModified(fake)
})

test('a group chat under Telegram-like limits still ends with the whole reply', async (t) => {
  const { fake, clock, editor } = await setup(t, { rateLimits: { ...telegramLikeLimits, group: { capacity: 3, perSecond: 20 / 60 } } })
  const stream = editor({ chatId: -100123 })
  await streamText(stream, clock, longReply, 300, 100)
  await stream.finish()
  assertChatHolds(fake, longReply, -100123)
  assertNeverNotModified(fake)
})

test('identical edits are never sent: thinking deltas and repeated status do not edit', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'text', text: 'Working on it.' })
  for (let i = 0; i < 30; i++) {
    stream.push({ type: 'thinking', text: `thought ${i} ` })
    clock.advance(500)
    await delay(1)
  }
  await stream.finish()
  // One send, one edit to show "Thinking…", one final edit that removes it.
  assert.deepEqual(writes(fake).map((c) => c.method), ['sendMessage', 'editMessageText', 'editMessageText'])
  assertChatHolds(fake, 'Working on it.')
})

test('tools, thinking and status show as an italic status line while live, never in the final text', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'text', text: 'Let me check.' })
  for (let i = 0; i < 3; i++) stream.push({ type: 'tool', name: 'Bash', summary: 'ls' })
  stream.push({ type: 'tool', name: 'Read', summary: 'a.txt' })
  clock.advance(3000)
  await waitFor(() => fake.messages(chatId)[0]?.text.includes('Read') === true, 'the tool status line')
  const live = fake.messages(chatId)[0]
  assert.equal(live?.text, 'Let me check.\n\n[TOOL: Bash] x3 · [TOOL: Read]')
  assert.deepEqual(live?.entities, [{ type: 'italic', offset: 15, length: 30 }])
  stream.push({ type: 'status', status: 'compacting', kind: 'compacting' })
  clock.advance(3000)
  await waitFor(() => fake.messages(chatId)[0]?.text.includes('compacting') === true, 'the compacting status')
  assert.match(fake.messages(chatId)[0]?.text ?? '', /\[TOOL: Read\] · compacting$/)
  stream.push({ type: 'text', text: '\n\nAll good.' })
  stream.push({ type: 'result', result: { text: 'Let me check.\n\nAll good.' } })
  await stream.finish()
  assertChatHolds(fake, 'Let me check.\n\nAll good.')
})

test('the final messages hold result.text: earlier turns of a multi-turn run are replaced', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'text', text: 'I will run a command.' })
  await waitFor(() => fake.messages(chatId).length === 1, 'the first turn')
  clock.advance(2500)
  stream.push({ type: 'tool', name: 'Bash', summary: 'echo hi' })
  stream.push({ type: 'text', text: 'The command printed: hi' })
  clock.advance(2500)
  await waitFor(() => fake.messages(chatId)[0]?.text.includes('printed') === true, 'the second turn')
  assert.equal(fake.messages(chatId)[0]?.text, 'I will run a command.\n\nThe command printed: hi')
  stream.push({ type: 'result', result: { text: 'The command printed: hi', isError: false } })
  await stream.finish()
  assert.deepEqual(fake.messages(chatId).map((m) => m.text), ['The command printed: hi'])
})

test('buttons go on the last message, file tags are returned, markers never show', async (t) => {
  const { fake, clock, editor } = await setup(t)
  const stream = editor()
  const reply = longReply + '\n\nShall I continue?\n[button:Yes] [button:No]\n[button:Show me the chart]\n<file:/home/u/out/chart.png>'
  await streamText(stream, clock, reply, 200, 100)
  const outcome = await stream.finish()
  assertChatHolds(fake, reply)
  const messages = fake.messages(chatId)
  assert.deepEqual(messages[messages.length - 1]?.reply_markup, {
    inline_keyboard: [[{ text: 'Yes', callback_data: 'Yes' }, { text: 'No', callback_data: 'No' }], [{ text: 'Show me the chart', callback_data: 'Show me the chart' }]]
  })
  assert.ok(messages.slice(0, -1).every((m) => m.reply_markup === undefined))
  assert.deepEqual(outcome.files, ['/home/u/out/chart.png'])
  assert.equal(outcome.buttons.length, 2)
  assert.ok(fake.calls.every((c) => !String(c.params.text ?? '').includes('[button:')), 'a marker was shown')
})

test('when nothing was streamed the full reply is sent normally', async (t) => {
  const { fake, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'result', result: { text: longReply } })
  await stream.finish()
  assertChatHolds(fake, longReply)
  assert.equal(fake.callsOf('editMessageText').length, 0)

  const off = editor({ chatId: 7, settings: { enabled: false } })
  off.push({ type: 'text', text: 'streamed but not shown' })
  await delay(10)
  assert.equal(fake.messages(7).length, 0)
  await off.finish('Only the final reply.')
  assert.deepEqual(fake.messages(7).map((m) => m.text), ['Only the final reply.'])
})

test('a reply without text removes the status-only message', async (t) => {
  const { fake, editor } = await setup(t)
  const stream = editor()
  stream.push({ type: 'tool', name: 'Bash', summary: 'ls' })
  await waitFor(() => fake.messages(chatId).length === 1, 'the status message')
  assert.equal(fake.messages(chatId)[0]?.text, '[TOOL: Bash]')
  const outcome = await stream.finish('')
  assert.deepEqual(fake.messages(chatId), [])
  assert.deepEqual(outcome.messageIds, [])
})

import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { Api } from 'grammy'
import { createFakeBotApi } from '../../fakes/bot-api/server.ts'
import type { FakeBotApi, RecordedCall } from '../../fakes/bot-api/server.ts'
import type { RateLimits } from '../../fakes/bot-api/rate-limit.ts'
import { createVirtualClock } from '../../fakes/bot-api/virtual-clock.ts'
import type { VirtualClock } from '../../fakes/bot-api/virtual-clock.ts'
import { createStreamEditor } from '../../../src/telegram/stream/stream-editor.ts'
import type { StreamEditor, StreamEditorOptions } from '../../../src/telegram/stream/stream-editor.ts'
import { streamApiFromGrammy } from '../../../src/telegram/stream/grammy-api.ts'
import { renderMarkdown } from '../../../src/telegram/format/markdown.ts'
import { extractMarkers } from '../../../src/telegram/format/markers.ts'
import { htmlToText } from '../../../src/telegram/format/html.ts'

export const chatId = 4242

export interface Harness {
  clock: VirtualClock
  fake: FakeBotApi
  api: Api
  editor: (extra?: Partial<StreamEditorOptions>) => StreamEditor
}

export async function setup (
  t: { after: (fn: () => Promise<void>) => void },
  options: { rateLimits?: RateLimits | false } & Partial<StreamEditorOptions> = {}
): Promise<Harness> {
  const { rateLimits, ...editorOptions } = options
  const clock = createVirtualClock()
  const fake = createFakeBotApi({ now: clock.now, rateLimits: rateLimits ?? false })
  await fake.start()
  t.after(() => fake.close())
  const api = new Api(fake.token, { apiRoot: fake.apiRoot })
  return {
    clock,
    fake,
    api,
    editor: (extra = {}) => createStreamEditor({
      api: streamApiFromGrammy(api),
      chatId,
      clock,
      sleep: clock.sleep,
      setTimer: clock.setTimer,
      ...editorOptions,
      ...extra
    })
  }
}

/** Pushes `text` as deltas, `gapMs` of virtual time apart, letting real I/O run in between. */
export async function streamText (editor: StreamEditor, clock: VirtualClock, text: string, chunk = 40, gapMs = 150): Promise<void> {
  for (let i = 0; i < text.length; i += chunk) {
    editor.push({ type: 'text', text: text.slice(i, i + chunk) })
    clock.advance(gapMs)
    await delay(1)
  }
}

/** The text a user sees for a final Markdown reply (markers removed), as Telegram shows it. */
export function expectedText (markdown: string): string {
  return htmlToText(renderMarkdown(extractMarkers(markdown).text))
}

/**
 * Asserts the chat shows exactly `markdown` rendered: the visible messages, in order, are the
 * consecutive pieces of the text (only whitespace between them), each within Telegram's limit.
 */
export function assertChatHolds (fake: FakeBotApi, markdown: string, chat = chatId): void {
  const full = expectedText(markdown)
  const messages = fake.messages(chat)
  assert.ok(messages.length > 0, 'no messages')
  let pos = 0
  for (const m of messages) {
    assert.ok(m.text.length <= 4096, `message of ${m.text.length} characters`)
    while (pos < full.length && /[ \t\r\n]/.test(full[pos] as string)) pos++
    assert.equal(m.text, full.slice(pos, pos + m.text.length), `message ${m.message_id} does not continue the reply at ${pos}`)
    pos += m.text.length
  }
  assert.equal(full.slice(pos).trim(), '', 'part of the reply is missing')
}

/** Weaker than assertChatHolds: every message is a piece of the reply, in order, none repeated. */
export function assertChatShowsPiecesOf (fake: FakeBotApi, markdown: string, chat = chatId): void {
  const full = expectedText(markdown)
  let pos = 0
  for (const m of fake.messages(chat)) {
    const at = full.indexOf(m.text, pos)
    assert.ok(at !== -1 && m.text.length > 0, `message ${m.message_id} is not the next piece of the reply`)
    pos = at + m.text.length
  }
}

export function writes (fake: FakeBotApi): RecordedCall[] {
  return fake.calls.filter((c) => ['sendMessage', 'editMessageText', 'deleteMessage', 'sendMessageDraft'].includes(c.method))
}

export function assertNeverNotModified (fake: FakeBotApi): void {
  assert.deepEqual(fake.calls.filter((c) => (c.description ?? '').includes('not modified')), [])
}

/** Waits (real time, up to `ms`) until `condition` holds; fails the test otherwise. */
export async function waitFor (condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`)
    await delay(2)
  }
}

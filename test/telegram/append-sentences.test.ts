import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { assertChatHolds } from './stream/helpers.ts'
import { scriptMarker, startBot, until, type ScriptStep } from './helpers.ts'

/**
 * `streaming.sentence_break` (issue 17, SPEC §7.2), through a Telegram update on the real service:
 * in append mode the Python ductor cut a chunk after the last finished sentence once `min_chars`
 * had gathered, so a long paragraph arrives sentence by sentence; with the key false it arrives
 * whole. The fake Claude streams one paragraph in deltas and pauses in the middle of it.
 */

const sentences = [
  'The first sentence of a long answer explains what happened today.',
  ' The second one adds a detail that matters for the rest of it.',
  ' A third keeps going, because the model has a lot to say here.',
  ' Then comes a fourth sentence, which the pause below interrupts',
  ' mid-way, and it ends only after the pause.',
  ' The last sentence closes the paragraph.'
]
const reply = sentences.join('')

async function run (t: test.TestContext, streaming: Record<string, unknown>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-sentences-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const bot = await startBot(t, { config: { streaming: { enabled: true, append_mode: true, min_chars: 100, edit_interval_seconds: 0.5, ...streaming } } })
  const steps: ScriptStep[] = []
  for (const [i, s] of sentences.entries()) {
    // Half a sentence at a time, as Claude streams; a long pause while the fourth is half written.
    steps.push({ delta: s.slice(0, 30) }, { delta: s.slice(30) })
    if (i === 3) steps.splice(steps.length - 1, 0, { pause: 20 })
  }
  await bot.say(`tell me ${await scriptMarker(dir, steps, reply)} [[delay:60]]`)
  await until(() => bot.texts().join(' ').includes('closes the paragraph.') && !bot.app.orchestrator.isBusy(String(111)), 'the whole reply')
  assertChatHolds(bot.fake, reply, 111)
  assert.equal(bot.fake.calls.filter((c) => c.method === 'editMessageText').length, 0, 'append mode never edits')
  return bot.texts()
}

test('sentence_break (default, as in the Python ductor): a paragraph streamed in append mode arrives cut at sentence ends', async (t) => {
  const texts = await run(t, {})
  assert.ok(texts.length >= 2, `one paragraph in ${texts.length} message(s): ${JSON.stringify(texts)}`)
  for (const text of texts) assert.match(text, /[.!?]$/, 'every message ends at the end of a sentence')
})

test('sentence_break false: the same paragraph arrives whole, in one message', async (t) => {
  const texts = await run(t, { sentence_break: false })
  assert.deepEqual(texts, [reply])
})

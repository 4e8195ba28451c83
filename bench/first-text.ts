// P3: first visible text in Telegram. Fake `claude` CLIs (test/fakes) stream a reply (60 text
// deltas, one every 50 ms); this process parses their stdout with the real parser and feeds the
// events to the real streaming editor (src/telegram/stream), which talks through grammY to the fake
// Bot API (test/fakes/bot-api) with Telegram-like per-chat rate limits. Ten private chats at once.
// Figures: time from the parser's first text event to the first message stored by the fake Bot
// API; Bot API calls per reply against messages + ceil(duration / edit interval) + 2; 429s; and
// whether each chat ends holding exactly the final reply.
// Baseline: a bare sendMessage round trip through grammY to the same fake server.
// Also (issue 22): the final text after the CLI's result, over short replies run one after another,
// each in a fresh chat: from the fake CLI's own timestamp just before it writes its result line
// (FAKE_CLI_ENDED, as test/telegram/replies.test.ts does) to the fake Bot API receiving the edit or
// message carrying the final text; next to sendMessage round trips taken between those runs.
// Run alone: node --import tsx bench/first-text.ts
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Api } from 'grammy'
import { createFakeBin } from '../test/fakes/fake-bin.ts'
import { createFakeBotApi, type FakeBotApi } from '../test/fakes/bot-api/server.ts'
import { telegramLikeLimits } from '../test/fakes/bot-api/rate-limit.ts'
import { createClaudeStreamParser } from '../src/providers/claude-stream.ts'
import { createStreamEditor } from '../src/telegram/stream/stream-editor.ts'
import { streamApiFromGrammy } from '../src/telegram/stream/grammy-api.ts'
import { defaultStreamingSettings } from '../src/telegram/stream/types.ts'
import { createMarkdownRenderer, renderMarkdown } from '../src/telegram/format/markdown.ts'
import { createLiveMarkerStripper } from '../src/telegram/format/markers.ts'
import { createHtmlSplitter } from '../src/telegram/format/split.ts'
import { htmlToText } from '../src/telegram/format/html.ts'
import { claudeTranscript } from './lib/transcript.ts'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { fmt, median, quantile } from './lib/stats.ts'

const CHATS = 10
const DELTAS = 60
const DELAY_MS = 50
const BASELINE_CALLS = 30
/** Final-text runs (one after another, a fresh chat each): short replies, ~0.3 s a run. */
const FINAL_RUNS = 40
const FINAL_DELTAS = 12
const FINAL_DELAY_MS = 10

const now = (): number => performance.timeOrigin + performance.now()

interface Reply { firstTextMs: number, calls: number, bound: number, rate429: number, exact: boolean }

async function reply (fake: FakeBotApi, api: Api, claude: string, chatId: number, transcriptPath: string): Promise<Reply> {
  const editor = createStreamEditor({ api: streamApiFromGrammy(api), chatId })
  let firstText: number | null = null
  let finalText = ''
  const parser = createClaudeStreamParser({
    onEvent: (event) => {
      if (event.type === 'text' && firstText === null) firstText = now()
      if (event.type === 'result') finalText = event.result.text
      editor.push(event)
    }
  })
  const child = spawn(claude, ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--', 'hi'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, IS_SANDBOX: '1', FAKE_CLI_TRANSCRIPT: transcriptPath, FAKE_CLI_DELAY_MS: String(DELAY_MS) }
  })
  child.stdout.on('data', (chunk: Buffer) => { parser.write(chunk) })
  await new Promise((resolve) => child.once('close', resolve))
  parser.end()
  await editor.finish()
  const ended = now()
  const calls = fake.calls.filter((c) => c.params['chat_id'] === chatId)
  const firstShown = calls.find((c) => c.method === 'sendMessage' && c.ok)?.at ?? NaN
  const messages = fake.messages(chatId)
  const duration = (ended - (firstText ?? ended)) / 1000
  const shown = messages.map((m) => m.text).join('')
  const expected = htmlToText(renderMarkdown(finalText))
  return {
    firstTextMs: firstShown - (firstText ?? NaN),
    calls: calls.length,
    bound: messages.length + Math.ceil(duration / defaultStreamingSettings.edit_interval_seconds) + 2,
    rate429: calls.filter((c) => c.errorCode === 429).length,
    exact: shown.replace(/\s+/g, '') === expected.replace(/\s+/g, '')
  }
}

/**
 * One short reply in a fresh chat: ms from the fake CLI's timestamp just before its result line
 * (Date.now() in the CLI, whole ms) to the fake Bot API's record of the first accepted
 * sendMessage/editMessageText holding the reply's last words. The editor gets each event as it is
 * parsed, so the final update starts on the result event, as in the service.
 */
async function finalAfterResult (fake: FakeBotApi, api: Api, claude: string, chatId: number, transcriptPath: string, lastWords: string, endedPath: string): Promise<number> {
  const editor = createStreamEditor({ api: streamApiFromGrammy(api), chatId })
  const parser = createClaudeStreamParser({ onEvent: (event) => { editor.push(event) } })
  const child = spawn(claude, ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--', 'hi'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, IS_SANDBOX: '1', FAKE_CLI_TRANSCRIPT: transcriptPath, FAKE_CLI_DELAY_MS: String(FINAL_DELAY_MS), FAKE_CLI_ENDED: endedPath }
  })
  child.stdout.on('data', (chunk: Buffer) => { parser.write(chunk) })
  await new Promise((resolve) => child.once('close', resolve))
  parser.end()
  await editor.finish()
  const endedAt = Number((await readFile(endedPath, 'utf8')).trim())
  const shown = fake.calls.find((c) => c.ok && Number(c.params['chat_id']) === chatId &&
    (c.method === 'sendMessage' || c.method === 'editMessageText') && String(c.params['text']).includes(lastWords))
  return (shown?.at ?? NaN) - endedAt
}

const PARAGRAPH = 'Some **bold** words, a `code span`, and a [link](https://example.com/docs) in a sentence that goes on. '

/**
 * What one live edit costs as the reply grows: the editor's work per edit (markers stripped,
 * Markdown rendered with the incremental renderer, HTML split into messages) when the reply holds
 * `kb` KB, after growing to it by 40-character deltas with an edit every 50 deltas.
 */
function editCost (kb: number): { perEditMs: number, totalMs: number, edits: number } {
  // What the stream editor does at each live edit (stream-editor.ts, liveParts).
  const renderer = createMarkdownRenderer()
  const stripper = createLiveMarkerStripper()
  const splitter = createHtmlSplitter()
  const target = kb * 1024
  let text = ''
  let total = 0
  let edits = 0
  let last = 0
  const source = Array.from({ length: Math.ceil(target / PARAGRAPH.length / 4) + 1 }, () => PARAGRAPH.repeat(4) + '\n\n').join('')
  for (let at = 0, n = 0; at < target; at += 40, n++) {
    text += source.slice(at, at + 40)
    if (n % 50 !== 49) continue
    const t = performance.now()
    splitter.split(renderer.render(stripper.strip(text), { streaming: true }))
    last = performance.now() - t
    total += last
    edits++
  }
  // The edit at full size, a few times, for a steadier figure.
  const t = performance.now()
  for (let i = 0; i < 5; i++) splitter.split(renderer.render(stripper.strip(text + ' more'.repeat(i + 1)), { streaming: true }))
  return { perEditMs: (performance.now() - t) / 5, totalMs: total, edits }
}

export async function benchFirstText (): Promise<BenchResult> {
  const result = emptyResult()
  const sizes = [4, 16, 64, 256]
  const costs = sizes.map((kb) => ({ kb, ...editCost(kb) }))
  result.growth.push({
    title: 'P3 cost growth: one live edit as the reply grows (strip markers + render + split, as the stream editor does; each keeps what the last edit did, so only the new text and the open tail are worked on again)',
    columns: ['reply KB', 'ms per edit at that size', 'edits to get there', 'ms for all those edits'],
    rows: costs.map((c) => [c.kb, c.perEditMs, c.edits, c.totalMs])
  })
  const fake = createFakeBotApi({ now, rateLimits: telegramLikeLimits })
  // Its own fake Bot API for the final-text row, stamping calls with Date.now: the fake CLI's clock
  // for FAKE_CLI_ENDED.
  const finalFake = createFakeBotApi({ now: Date.now, rateLimits: telegramLikeLimits })
  await finalFake.start()
  await fake.start()
  const bin = await createFakeBin()
  try {
    const api = new Api(fake.token, { apiRoot: fake.apiRoot })
    // Baseline: sendMessage round trips, one chat each (no rate limit in the way).
    const rtts: number[] = []
    for (let i = 0; i < BASELINE_CALLS; i++) {
      const t = now()
      await api.sendMessage(900_000 + i, 'baseline')
      rtts.push(now() - t)
    }
    const { lines } = claudeTranscript(DELTAS, DELAY_MS)
    const transcriptPath = join(bin.dir, 'bench-transcript.jsonl')
    await writeFile(transcriptPath, lines)
    const replies = await Promise.all(Array.from({ length: CHATS }, (_, i) => reply(fake, api, bin.claude, 1000 + i, transcriptPath)))
    // Final text after the CLI's result: short replies one after another, a fresh chat each (so
    // Telegram's per-chat pace is not what is measured), a sendMessage round trip before each.
    const short = claudeTranscript(FINAL_DELTAS, FINAL_DELAY_MS)
    const shortPath = join(bin.dir, 'bench-final.jsonl')
    await writeFile(shortPath, short.lines)
    const lastWords = `word${FINAL_DELTAS - 1} and`
    const finalApi = new Api(finalFake.token, { apiRoot: finalFake.apiRoot })
    const finals: number[] = []
    const finalRtts: number[] = []
    const finalStart = now()
    for (let i = 0; i < FINAL_RUNS; i++) {
      const t = now()
      await finalApi.sendMessage(950_000 + i, 'baseline')
      finalRtts.push(now() - t)
      finals.push(await finalAfterResult(finalFake, finalApi, bin.claude, 3000 + i, shortPath, lastWords, join(bin.dir, `ended-${i}`)))
    }
    const finalSeconds = (now() - finalStart) / 1000
    const missing = finals.filter((ms) => Number.isNaN(ms)).length
    const finalMedian = median(finals.filter((ms) => !Number.isNaN(ms)))
    const finalP99 = quantile(finals.filter((ms) => !Number.isNaN(ms)), 0.99)
    const finalRtt = median(finalRtts)
    progress(`final text after the CLI's result: median ${finalMedian.toFixed(1)} ms, p99 ${finalP99.toFixed(1)} ms over ${FINAL_RUNS} runs (${missing} missing); sendMessage round trip median ${finalRtt.toFixed(2)} ms, p99 ${quantile(finalRtts, 0.99).toFixed(2)} ms; ${finalSeconds.toFixed(1)} s`)
    const first = median(replies.map((r) => r.firstTextMs))
    const rtt = median(rtts)
    const over = replies.filter((r) => r.calls > r.bound).length
    const r429 = replies.reduce((a, r) => a + r.rate429, 0)
    const exact = replies.filter((r) => r.exact).length
    progress(`first text: median ${first.toFixed(1)} ms, p90 ${quantile(replies.map((r) => r.firstTextMs), 0.9).toFixed(1)} ms (sendMessage round trip ${rtt.toFixed(1)} ms); calls ${replies.map((r) => `${r.calls}/${r.bound}`).join(' ')}; 429s ${r429}; exact ${exact}/${CHATS}`)
    result.rows.push({
      id: 'P3',
      what: `first visible text after the CLI's first text (median, ${CHATS} chats)`,
      value: first,
      unit: 'ms',
      target: '≤ 150 ms median',
      ok: first <= 150,
      baseline: { label: 'bare sendMessage round trip', value: rtt },
      ratio: first / rtt
    }, {
      id: 'P3',
      what: `final text after the CLI's result (median; p99 ${fmt(finalP99)} ms; ${FINAL_RUNS} runs, whole ms)`,
      value: finalMedian,
      unit: 'ms',
      target: '≤ 100 ms (issue 22), p99',
      ok: missing === 0 && finalP99 <= 100,
      baseline: { label: `bare sendMessage round trip (p99 ${fmt(quantile(finalRtts, 0.99))} ms)`, value: finalRtt },
      ratio: finalMedian / finalRtt,
      note: `${missing} runs without the final text`
    }, {
      id: 'P3',
      what: 'Bot API calls per reply (median) vs bound',
      value: median(replies.map((r) => r.calls)),
      unit: 'calls',
      target: '≤ messages + ⌈duration/interval⌉ + 2',
      ok: over === 0,
      baseline: { label: 'bound (median)', value: median(replies.map((r) => r.bound)), unit: 'calls' },
      ratio: median(replies.map((r) => r.calls / r.bound)),
      note: `${over} replies over the bound`
    }, {
      id: 'P3',
      what: `429 answers; chats holding exactly the final reply: ${exact}/${CHATS}`,
      value: r429,
      unit: '429s',
      target: 'zero 429',
      ok: r429 === 0 && exact === CHATS
    })
  } finally {
    await fake.close()
    await finalFake.close()
    await bin.cleanup()
  }
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchFirstText())

// P2: a Telegram webhook update acknowledged (secret checked in constant time, journaled in the
// inbox with fsync) while a run for that chat streams. The compiled service runs in webhook mode
// against the fake Bot API (test/fakes/bot-api, in this process, no rate limits); a first message
// starts a fake `claude` run that streams for several seconds; once its first text is shown, four
// clients in this process post further updates for the same chat (unique update_ids; each is
// queued behind the run, so each also gets its "queued" indicator) and time each acknowledgement.
// Baseline: the same clients against a bare node:http server answering 200.
// Run alone: node --import tsx bench/telegram-webhook.ts
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createFakeBin } from '../test/fakes/fake-bin.ts'
import { createFakeBotApi } from '../test/fakes/bot-api/server.ts'
import { claudeTranscript } from './lib/transcript.ts'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { buildPackage, startBareServer, startService, tempHome } from './lib/service.ts'
import { median, quantile } from './lib/stats.ts'

const USER = 1001
const SECRET = 'bench-webhook-secret-0123456789abcdef'
const PATH = '/telegram/webhook'
const CLIENTS = 4
const SECONDS = 3

let nextUpdateId = 5000
function update (text: string): Record<string, unknown> {
  const id = nextUpdateId++
  return { update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: USER, type: 'private' }, from: { id: USER, is_bot: false, first_name: 'Bench' }, text } }
}

async function post (url: string, body: Record<string, unknown>): Promise<{ ms: number, status: number }> {
  const t = performance.now()
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(body) })
  await res.arrayBuffer()
  return { ms: performance.now() - t, status: res.status }
}

/** CLIENTS loops posting updates for SECONDS; every latency and status. */
async function hammer (url: string): Promise<{ ms: number[], bad: number }> {
  const ms: number[] = []
  let bad = 0
  const end = performance.now() + SECONDS * 1000
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < end) {
      const r = await post(url, update('another message while the reply streams'))
      ms.push(r.ms)
      if (r.status !== 200) bad++
    }
  }))
  return { ms, bad }
}

async function until (what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export async function benchTelegramWebhook (): Promise<BenchResult> {
  const result = emptyResult()
  const fake = createFakeBotApi({ rateLimits: false })
  await fake.start()
  const bin = await createFakeBin()
  const pkg = await buildPackage()
  const transcriptPath = join(bin.dir, 'bench-transcript.jsonl')
  await writeFile(transcriptPath, claudeTranscript(300, 30).lines)
  const { home, cleanup } = await tempHome({
    'config/config.json': {
      telegram_token: fake.token,
      allowed_user_ids: [USER],
      provider: 'claude',
      model: 'sonnet',
      cli_paths: { claude: bin.claude },
      server: { public_url: 'https://bot.example.test' },
      telegram: { mode: 'webhook', api_root: fake.apiRoot, webhook_secret: SECRET, webhook_path: PATH }
    }
  })
  try {
    const bare = await startBareServer({ status: 200 })
    const baseline = await hammer(bare.url)
    await bare.stop()
    const bareDurable = await startBareServer({ status: 200, durableDir: home })
    const durable = await hammer(bareDurable.url)
    await bareDurable.stop()

    const service = await startService({ pkg, home, env: { FAKE_CLI_TRANSCRIPT: transcriptPath, FAKE_CLI_DELAY_MS: '30' } })
    try {
      await until('setWebhook', () => fake.webhook() !== undefined && fake.webhook() !== null)
      const first = await post(`${service.url}${PATH}`, update('stream a long reply please'))
      if (first.status !== 200) throw new Error(`the first update got ${first.status}`)
      await until('the streamed reply to start', () => fake.messages(USER).some((m) => m.text.includes('word')))
      const during = await hammer(`${service.url}${PATH}`)
      const streaming = !fake.messages(USER).some((m) => m.text.includes('word299'))
      progress(`acks while streaming: ${during.ms.length} updates, p50 ${median(during.ms).toFixed(2)} ms, p99 ${quantile(during.ms, 0.99).toFixed(2)} ms, ${during.bad} not 200; bare p99 ${quantile(baseline.ms, 0.99).toFixed(2)} ms; run still streaming at the end: ${streaming}`)
      const p99 = quantile(during.ms, 0.99)
      result.rows.push({
        id: 'P2',
        what: `Telegram webhook ack while the chat's run streams: p99 (${during.ms.length} updates, ${CLIENTS} clients)`,
        value: p99,
        unit: 'ms',
        target: '≤ 5 ms',
        ok: p99 <= 5 && during.bad === 0,
        baseline: { label: 'bare node:http 200', value: quantile(baseline.ms, 0.99) },
        ratio: p99 / quantile(baseline.ms, 0.99),
        note: `p50 ${median(during.ms).toFixed(2)} ms; ${during.bad} not 200; streaming throughout: ${streaming}`
      }, {
        id: 'P2',
        what: '(the disk\'s floor) bare node:http that fdatasyncs each update before its 200: p99',
        value: quantile(durable.ms, 0.99),
        unit: 'ms',
        target: '(context for P2)',
        ok: null,
        baseline: { label: 'P2 p99', value: p99 },
        ratio: quantile(durable.ms, 0.99) / p99
      })
      result.growth.push({
        title: 'P2: acknowledgement latency (ms) while a run streams in that chat',
        columns: ['server', 'updates', 'p50', 'p90', 'p99', 'max', 'not 200'],
        rows: [
          ['ductor (journaled)', during.ms.length, median(during.ms), quantile(during.ms, 0.9), p99, Math.max(...during.ms), during.bad],
          ['bare node:http', baseline.ms.length, median(baseline.ms), quantile(baseline.ms, 0.9), quantile(baseline.ms, 0.99), Math.max(...baseline.ms), baseline.bad],
          ['bare node:http + append and fdatasync per update (no run streaming)', durable.ms.length, median(durable.ms), quantile(durable.ms, 0.9), quantile(durable.ms, 0.99), Math.max(...durable.ms), durable.bad]
        ]
      })
    } finally {
      await service.stop()
    }
  } finally {
    await cleanup()
    await pkg.cleanup()
    await bin.cleanup()
    await fake.close()
  }
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchTelegramWebhook())

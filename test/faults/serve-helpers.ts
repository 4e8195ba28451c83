/**
 * What the process and disk fault tests share: a home set up for Telegram webhook mode against the
 * fake Bot API, with the fake CLIs recording one file per run; `spawnService` (test/helper.ts) runs
 * `ductor serve` on it, and the tests kill it, restart it and read its home afterwards.
 */
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fakeClis, tempDir, testConfig, type Cleanup } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'
import { createFakeBotApi, type FakeBotApi } from '../fakes/bot-api/server.ts'
import { textMessage } from '../fakes/bot-api/updates.ts'

export const SECRET = 'fault-webhook-secret-0123456789abcdef'
export const CHATS = [201, 202, 203, 204, 205] as const

/** Writes a config for Telegram webhook mode against `fake`, the fake CLIs by path, port 0. */
export async function writeTelegramConfig (home: string, fake: FakeBotApi, bin: { claude: string, codex: string }, extra: Record<string, unknown> = {}): Promise<void> {
  await writeJsonAtomic(homePaths(home).config, testConfig({
    telegram_token: fake.token,
    allowed_user_ids: [...CHATS],
    server: { host: '127.0.0.1', port: 0, public_url: 'https://bot.example.test' },
    telegram: { mode: 'webhook', api_root: fake.apiRoot, webhook_secret: SECRET },
    streaming: { enabled: false },
    cli_paths: { claude: bin.claude, codex: bin.codex },
    ...extra
  }))
}

/**
 * A fresh home for Telegram webhook mode (`writeTelegramConfig` with `extra`), a started fake Bot API
 * (closed when the test ends), the fake CLIs named in the config by path.
 */
export async function telegramFaultHome (t: Cleanup, extra: Record<string, unknown> = {}): Promise<{ fake: FakeBotApi, home: string }> {
  const fake = createFakeBotApi({ rateLimits: false })
  await fake.start()
  t.after(async () => { await fake.close() })
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  await writeTelegramConfig(home, fake, bin, extra)
  return { fake, home }
}

let nextMessageId = 1

/** A private text message from `chatId` (user id = chat id) as Telegram would POST it. */
export function textUpdate (updateId: number, chatId: number, text: string): Record<string, unknown> {
  return { update_id: updateId, message: textMessage(text, { chatId, messageId: nextMessageId++ }) }
}

/** POSTs an update to the webhook route; a refused connection (service down) is status 0. */
export async function postUpdate (url: string, update: unknown): Promise<{ status: number, body: string }> {
  try {
    const res = await fetch(`${url}/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(15_000)
    })
    return { status: res.status, body: await res.text() }
  } catch {
    return { status: 0, body: '' }
  }
}

/** The prompts the fake CLIs were started with (one record file per run in `dir`), with their pids. */
export async function recordedRuns (dir: string): Promise<Array<{ pid: number, prompt: string }>> {
  const names = await readdir(dir).catch(() => [] as string[])
  const runs: Array<{ pid: number, prompt: string }> = []
  for (const name of names) {
    try {
      const rec = JSON.parse(await readFile(join(dir, name), 'utf8')) as { pid: number, argv: string[] }
      runs.push({ pid: rec.pid, prompt: rec.argv.at(-1) ?? '' })
    } catch {} // a record being written right now
  }
  return runs
}

/** How many runs mention each marker (`m-<chat>-<n>`) in their prompt. */
export function countMarkers (runs: Array<{ prompt: string }>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const run of runs) for (const m of run.prompt.matchAll(/\bm-\d+-\d+\b/g)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1)
  return counts
}

/** Whether a process is alive (not a zombie). */
export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import type { App, AppDeps } from '../../src/app.ts'
import type { HomePaths } from '../../src/home/paths.ts'
import { createFakeBotApi, type FakeBotApi, type FakeBotApiOptions, type StoredMessage } from '../fakes/bot-api/server.ts'
import { textMessage } from '../fakes/bot-api/updates.ts'
import { build, fakeClis, testConfig, waitFor, type Cleanup } from '../helper.ts'

export type { Cleanup }

export const SECRET = 'test-webhook-secret_0123456789abcdef'
/** Allowed users; each test uses its own private chat (chat id = user id). */
export const USERS = [111, 112, 113, 114, 115, 116, 117, 118, 119, 120] as const
export const USER = 111
export const STRANGER = 999
export const GROUP = -100500

export interface BotHarness {
  app: App
  fake: FakeBotApi
  home: string
  paths: HomePaths
  logs: string[]
  url: string
  restarts: number
  /** Whether something would start the service again after `/restart` (default true, as under a supervisor). */
  restartable: boolean
  /** POSTs an update to the webhook route; returns the HTTP status and body. */
  post: (update: unknown, secret?: string | null) => Promise<{ status: number, body: Record<string, unknown> }>
  /** Sends a text message from a user (webhook or polling, as the harness runs) and returns its update. */
  say: (text: string, opts?: { chatId?: number, from?: number, threadId?: number, replyTo?: Record<string, unknown>, extra?: Record<string, unknown> }) => Promise<Record<string, unknown>>
  /** The user taps an inline button of a bot message (a callback_query update). */
  press: (message: StoredMessage, data: string, from?: number) => Promise<void>
  /** Visible texts of the chat's messages, oldest first. */
  texts: (chatId?: number) => string[]
  messages: (chatId?: number) => StoredMessage[]
  /** Waits until a message of the chat satisfies `fn`. */
  waitMessage: (fn: (m: StoredMessage) => boolean, what: string, chatId?: number) => Promise<StoredMessage>
  /** Closes the service now (as a graceful stop does); the fake Bot API stays until the cleanup. */
  stop: () => Promise<void>
}

let nextUpdateId = 1000
let nextMessageId = 1

/** For a describe() block: pass it to startBot and call `after(cleanups.run)` in the block. Runs them in order, as node:test does. */
export function cleanups (): Cleanup & { run: () => Promise<void> } {
  const fns: Array<() => Promise<void> | void> = []
  return {
    after: (fn) => { fns.push(fn) },
    run: async () => { for (const fn of fns) await fn() }
  }
}

export interface StartOptions {
  mode?: 'webhook' | 'polling'
  config?: Record<string, unknown>
  env?: NodeJS.ProcessEnv
  /** Runs on the home before the service starts (e.g. an upgrade marker). */
  prepare?: (paths: HomePaths) => Promise<void>
  /** Options of the fake Bot API (default: no rate limits). */
  fake?: FakeBotApiOptions
  /** Where the periodic update check looks and when it first runs (default: this copy, after a minute). */
  updates?: AppDeps['updates']
  /** The home to run on (default: a fresh one, removed afterwards); the caller removes its own. */
  home?: string
}

/** The bot against the fake Bot API, on the in-process service (`build` with `listen`): a harness to talk to it. */
export async function startBot (t: Cleanup, opts: StartOptions = {}): Promise<BotHarness> {
  const mode = opts.mode ?? 'webhook'
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200, ...opts.fake })
  await fake.start()
  const bin = await fakeClis(t)
  const harness = { restarts: 0, restartable: true } as BotHarness
  const { app, home, paths, logs, url, stop } = await build(t, {
    config: testConfig({
      telegram_token: fake.token,
      allowed_user_ids: [...USERS],
      server: { host: '127.0.0.1', port: 0, public_url: 'https://bot.example.test' },
      // The update check is off in tests (testConfig) unless the test gives it a source to ask.
      telegram: { mode, api_root: fake.apiRoot, webhook_secret: SECRET, ...(opts.updates !== undefined && { update_check_hours: 1 }) },
      // Live edits wait for the edit interval; tests that look at streaming turn it on (see webhook.test.ts).
      streaming: { enabled: false, edit_interval_seconds: 0.5 },
      ...opts.config
    }),
    env: { ...bin.env, ...opts.env },
    prepare: opts.prepare,
    requestRestart: () => { harness.restarts++ },
    restartable: () => harness.restartable,
    telegramPollSeconds: 1,
    updates: opts.updates,
    ...(opts.home !== undefined ? { home: opts.home } : {}),
    listen: true
  })
  // After build's own hook: node:test runs them in order, so the app is closed before its Bot API.
  t.after(fake.close)
  await app.telegram?.started

  const post: BotHarness['post'] = async (update, secret = SECRET) => {
    const res = await fetch(`${url}/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
      body: typeof update === 'string' ? update : JSON.stringify(update)
    })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }
  const say: BotHarness['say'] = async (text, o = {}) => {
    const chatId = o.chatId ?? USER
    const from = o.from ?? USER
    const update = {
      update_id: nextUpdateId++,
      message: textMessage(text, { chatId, from, messageId: nextMessageId++, threadId: o.threadId, replyTo: o.replyTo, extra: o.extra })
    }
    await deliver(update)
    return update
  }
  const deliver = async (update: Record<string, unknown>): Promise<void> => {
    if (mode === 'polling') fake.pushUpdate(update)
    else {
      const res = await post(update)
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`)
    }
  }
  const press: BotHarness['press'] = async (message, data, from = message.chat_id > 0 ? message.chat_id : USER) => {
    await deliver({
      update_id: nextUpdateId++,
      callback_query: {
        id: `cq-${nextUpdateId}`,
        from: { id: from, is_bot: false, first_name: 'Ann' },
        chat_instance: 'ci',
        data,
        message: {
          message_id: message.message_id,
          date: message.date,
          chat: message.chat_id > 0 ? { id: message.chat_id, type: 'private', first_name: 'Ann' } : { id: message.chat_id, type: 'supergroup', title: 'Team' },
          from: { id: 123456, is_bot: true, first_name: 'Ductor Test', username: 'ductor_test_bot' },
          text: message.text,
          ...(message.reply_markup !== undefined ? { reply_markup: message.reply_markup } : {})
        }
      }
    })
  }
  const messages = (chatId = USER): StoredMessage[] => fake.messages(chatId)
  Object.assign(harness, {
    app,
    fake,
    home,
    paths,
    logs,
    url,
    post,
    say,
    press,
    messages,
    stop: async () => { await stop() },
    texts: (chatId = USER) => messages(chatId).map((m) => m.text),
    // (30 s: what a loaded machine can take; a reply that comes is taken at once.)
    waitMessage: async (fn: (m: StoredMessage) => boolean, what: string, chatId = USER) => await waitFor(() => messages(chatId).find(fn), 30_000, what)
  })
  return harness
}

/** Waits until `fn` holds (the bot works in the background after the webhook answered). */
export async function until (fn: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => fn() ? true : undefined, timeoutMs, what)
}

/** One step of a scripted Claude run: text, a tool call, or `pause` lines of nothing (each takes the prompt's [[delay:n]]). */
/**
 * `text` is one whole assistant message (blocks of separate messages reach the user joined by a blank
 * line); consecutive `delta` steps stream one message's text block piece by piece, as Claude does with
 * partial messages, and are followed by that message whole.
 */
export type ScriptStep = { text: string } | { delta: string } | { tool: string, input: Record<string, unknown> } | { pause: number }

/**
 * A prompt marker that makes the fake Claude play `steps` and end with `reply` as the result: a
 * transcript in Claude's stream-json written to `dir` (any text: buttons, file tags, brackets).
 */
export async function scriptMarker (dir: string, steps: ScriptStep[], reply: string): Promise<string> {
  const sessionId = randomUUID()
  const line = (type: string, fields: Record<string, unknown>): string => JSON.stringify({ type, ...fields, session_id: sessionId, uuid: randomUUID() })
  const usage = { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 5 }
  const assistant = (content: unknown[]): string => line('assistant', { message: { id: `msg_${randomUUID()}`, type: 'message', role: 'assistant', model: 'opus', content, usage }, parent_tool_use_id: null })
  const lines = [line('system', { subtype: 'init', cwd: dir, model: 'opus', permissionMode: 'bypassPermissions', tools: [] })]
  let streaming: { id: string, text: string } | null = null
  const endStream = (): void => {
    if (streaming === null) return
    lines.push(line('assistant', { message: { id: streaming.id, type: 'message', role: 'assistant', model: 'opus', content: [{ type: 'text', text: streaming.text }], usage }, parent_tool_use_id: null }))
    streaming = null
  }
  const event = (e: Record<string, unknown>): string => line('stream_event', { event: e, parent_tool_use_id: null })
  for (const step of steps) {
    if ('delta' in step) {
      if (streaming === null) {
        streaming = { id: `msg_${randomUUID()}`, text: '' }
        lines.push(event({ type: 'message_start', message: { id: streaming.id, usage } }))
      }
      streaming.text += step.delta
      lines.push(event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: step.delta } }))
      continue
    }
    if (!('pause' in step)) endStream()
    if ('text' in step) lines.push(assistant([{ type: 'text', text: step.text }]))
    else if ('tool' in step) lines.push(assistant([{ type: 'tool_use', id: `toolu_${randomUUID()}`, name: step.tool, input: step.input }]))
    else for (let i = 0; i < step.pause; i++) lines.push(JSON.stringify({ type: 'ductor_test_pause' }))
  }
  endStream()
  lines.push(line('result', { subtype: 'success', is_error: false, duration_ms: 5, num_turns: 1, result: reply, total_cost_usd: 0.001, usage }))
  const path = join(dir, `script-${randomUUID()}.jsonl`)
  await writeFile(path, lines.join('\n') + '\n')
  return `[[transcript:${path}]]`
}

/** A prompt marker that makes the fake Claude stream `reply` in three parts. */
export async function replyMarker (dir: string, reply: string): Promise<string> {
  const size = Math.max(1, Math.ceil(reply.length / 3))
  const steps: ScriptStep[] = []
  for (let i = 0; i < reply.length; i += size) steps.push({ text: reply.slice(i, i + size) })
  return await scriptMarker(dir, steps, reply)
}

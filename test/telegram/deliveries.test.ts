import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN_TOKEN } from '../helper.ts'
import { cleanups, replyMarker, startBot, until, USERS, type BotHarness } from './helpers.ts'

/**
 * ADR 0044 (breakit report 1, F4): an automation result (here a cron job run through the admin
 * route, as `ductor cron run` does) is not lost when the Bot API cannot be reached at the moment it
 * is sent: it is retried until Telegram takes it, and it survives a restart in between.
 */

const admin = async (bot: BotHarness, method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number, body: Record<string, unknown> }> => {
  const res = await bot.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {})
  })
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> }
}

/** Creates a job whose agent answers `reply`, runs it now, and returns its run id. */
async function runJob (bot: BotHarness, id: string, reply: string, marker = `[[reply:${reply}]]`): Promise<string> {
  const created = await admin(bot, 'POST', '/api/cron', { id, title: `Digest ${id}`, schedule: '0 9 * * *', agent_instruction: `Write the digest. ${marker}` })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const started = await admin(bot, 'POST', `/api/cron/${id}/run`)
  assert.equal(started.status, 202, JSON.stringify(started.body))
  return String(started.body['run_id'])
}

/** How many messages of each allowed user's chat hold `text`. */
const copies = (bot: BotHarness, text: string): number[] => USERS.map((chat) => bot.texts(chat).filter((t) => t.includes(text)).length)

test('a cron result sent while the Bot API drops the connection is retried and arrives in every chat, once', async (t) => {
  const cleanup = cleanups()
  t.after(cleanup.run)
  const bot = await startBot(cleanup)
  // Telegram unreachable for the first three sends of the result (10 allowed users, 10 chats).
  bot.fake.fail('sendMessage', { status: 'drop' }, 3)
  const runId = await runJob(bot, 'hn-digest', 'digest ready 42')
  await until(() => copies(bot, 'digest ready 42').every((n) => n >= 1), 'the result in every allowed chat')
  assert.deepEqual(copies(bot, 'digest ready 42'), USERS.map(() => 1), 'each chat got it once')
  assert.equal(bot.fake.callsOf('sendMessage').filter((c) => !c.ok).length, 3, 'three sends were dropped')
  const run = await admin(bot, 'GET', `/api/runs/${runId}`)
  assert.equal(run.body['status'], 'success')
  assert.ok(bot.logs.some((l) => l.includes('automation result not delivered yet; retrying')))
})

test('a cron result Telegram has not taken when the service stops is sent by the next start, once', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ductor-deliveries-'))
  t.after(async () => { await rm(home, { recursive: true, force: true }) })
  const first = cleanups()
  t.after(first.run)
  const before = await startBot(first, { home })
  before.fake.fail('sendMessage', { status: 'drop' }, 1_000_000)
  await runJob(before, 'night-digest', 'night digest 7')
  // Every chat's result was tried and is waiting for its next try.
  await until(() => before.logs.filter((l) => l.includes('automation result not delivered yet; retrying')).length >= USERS.length, 'a failed try for every chat')
  await before.stop()
  assert.deepEqual(copies(before, 'night digest 7'), USERS.map(() => 0), 'nothing reached Telegram before the stop')
  assert.match(await readFile(join(home, 'state', 'inbox.jsonl'), 'utf8'), /"kind":"delivery"/, 'the results are in the journal')

  // Telegram is back (a new fake Bot API), and the service starts again on the same home.
  const second = cleanups()
  t.after(second.run)
  const after = await startBot(second, { home })
  await until(() => copies(after, 'night digest 7').every((n) => n >= 1), 'the result in every allowed chat after the restart')
  assert.deepEqual(copies(after, 'night digest 7'), USERS.map(() => 1))
  assert.equal(after.fake.callsOf('sendMessage').filter((c) => c.params['text'] !== undefined && String(c.params['text']).includes('night digest 7')).length, USERS.length, 'sent once per chat')
})

test('a webhook task\'s result takes the same path: sent again until the Bot API answers', async (t) => {
  const cleanup = cleanups()
  t.after(cleanup.run)
  const bot = await startBot(cleanup, { config: { webhooks: { enabled: true } } })
  const created = await admin(bot, 'POST', '/api/webhooks', { id: 'ci-done', title: 'CI done', mode: 'cron_task', task_folder: 'ci-done', prompt_template: 'Build {{status}} [[reply:build report 9]]' })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  bot.fake.fail('sendMessage', { status: 502 }, 2)
  bot.fake.fail('sendMessage', { status: 429, retryAfter: 1 }, 1)
  const res = await bot.app.inject({ method: 'POST', url: '/hooks/ci-done', headers: { authorization: `Bearer ${String(created.body['token'])}`, 'content-type': 'application/json' }, payload: { status: 'green' } })
  assert.equal(res.statusCode, 202, res.body)
  await until(() => copies(bot, 'build report 9').every((n) => n >= 1), 'the result in every allowed chat')
  assert.deepEqual(copies(bot, 'build report 9'), USERS.map(() => 1))
  assert.equal(bot.fake.callsOf('sendMessage').filter((c) => !c.ok).length, 3, 'two 502s and a 429 were answered')
})

test('a long cron result cut off between its parts by a stop: the next start sends only the parts not sent yet', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ductor-deliveries-'))
  t.after(async () => { await rm(home, { recursive: true, force: true }) })
  const first = cleanups()
  t.after(first.run)
  const before = await startBot(first, { home })
  // Three parts of about 3600 characters each (Telegram takes 4096 a message).
  const block = (name: string): string => `${name}-start ${`${name} `.repeat(600)}${name}-end`
  const reply = [block('alpha'), block('beta'), block('gamma')].join('\n\n')
  const marker = await replyMarker(before.paths.workspace, reply)
  // Telegram takes every first part, and no later one until the service stops.
  before.fake.fail('sendMessage', { status: 'drop' }, 1_000_000, (params) => !String(params['text']).includes('alpha-start'))
  await runJob(before, 'long-digest', '', marker)
  await until(() => before.logs.filter((l) => l.includes('automation result not delivered yet; retrying')).length >= USERS.length, 'a failed second part in every chat')
  await before.stop()
  assert.deepEqual(copies(before, 'alpha-start'), USERS.map(() => 1), 'the first part reached every chat before the stop')
  assert.deepEqual(copies(before, 'beta-start'), USERS.map(() => 0))

  const second = cleanups()
  t.after(second.run)
  const after = await startBot(second, { home })
  await until(() => copies(after, 'gamma-end').every((n) => n >= 1), 'the last part in every chat after the restart')
  assert.deepEqual(copies(after, 'alpha-start'), USERS.map(() => 0), 'the first part is not sent again')
  assert.deepEqual(copies(after, 'beta-start'), USERS.map(() => 1))
  assert.deepEqual(copies(after, 'gamma-end'), USERS.map(() => 1))
  // Nothing is left for a third start: every result has its done mark.
  await after.stop()
  const lines = (await readFile(join(home, 'state', 'inbox.jsonl'), 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { t: string, seq: number, kind?: string })
  const done = new Set(lines.filter((l) => l.t === 'd').map((l) => l.seq))
  assert.deepEqual(lines.filter((l) => l.t === 'e' && l.kind === 'delivery' && !done.has(l.seq)), [])
})

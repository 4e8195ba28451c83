// Hostile input against the Telegram webhook route (issue 9): ≥ 10,000 seeded updates — wrong or missing
// secrets, random bytes, odd update ids, updates from strangers (messages, every command, oversized
// texts), callback queries forged by users not on the allowlist for an allowed user's chat, group
// messages. Nothing answers 5xx; nothing from a stranger reaches the agent or makes the bot act; the
// agent's file tags that point outside the workspace (directly, by `..` or through a symlink) send nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { symlink } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { testConfig, waitFor } from '../helper.ts'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import type { CliExecutor } from '../../src/providers/cli-executor.ts'
import { CASES, runCases, OUTSIDE_SECRET, assertAnswer, assertConfined, assertNoPollution, hostileBody, hostileRig, hostileString, seedFor, stubExecutor } from './hostile-helpers.ts'

const SECRET = 'hostile-webhook-secret_0123456789abcdef'
const ALLOWED = Array.from({ length: 20 }, (_, i) => 120 + i)
/** An allowed user's chat that no legitimate update of this test uses: only forgeries point at it. */
const TARGET = 111
const STRANGERS = [999, 1, 0, -5, 777000, 2 ** 53]
const COMMANDS = ['/start', '/help', '/new', '/stop', '/status', '/model', '/model opus', '/memory', '/cron', '/skills', '/permissions', '/showfiles', '/diagnose', '/info', '/restart', '/upgrade', 'stop', '/unknown']

test(`Telegram webhook: ${CASES} hostile updates, nothing from strangers dispatched, nothing outside the workspace sent`, { timeout: 180_000 }, async (t) => {
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(async () => { await fake.close() })
  const prompts: Array<{ chatId: string, prompt: string }> = []
  let outsideTags = ''
  const executor: CliExecutor = {
    async execute (request) {
      prompts.push({ chatId: request.chatId, prompt: request.prompt })
      const outcome = await stubExecutor.execute(request)
      return { ...outcome, result: outcome.result === null ? null : { ...outcome.result, text: `ok ${outsideTags}` } }
    }
  }
  const rig = await hostileRig(t, testConfig({
    telegram_token: fake.token,
    allowed_user_ids: [TARGET, ...ALLOWED],
    file_access: 'workspace',
    streaming: { enabled: false },
    limits: { max_concurrent_runs: 20 },
    server: { host: '127.0.0.1', port: 0, public_url: 'https://bot.example.test' },
    telegram: { mode: 'webhook', api_root: fake.apiRoot, webhook_secret: SECRET }
  }), { executor })
  const link = join(rig.paths.workspace, 'escape-link.txt')
  await symlink(join(rig.outside, 'secret.txt'), link)
  outsideTags = [`<file:${join(rig.outside, 'secret.txt')}>`, `<file:${link}>`, `<file:${rig.paths.workspace}/../../outside/secret.txt>`, '<file:/etc/passwd>'].join(' ')
  await rig.app.listen({ host: '127.0.0.1', port: 0 })
  await rig.app.telegram?.started
  const seed = seedFor(t)
  const started = Date.now()

  let updateId = 1_000_000
  let fromStrangers = 0
  let fromAllowed = 0
  const strangerCallbacks = new Set<string>()
  // The odd ids (2 ** 60, 0, …) repeat: an id an allowed user's press also had cannot tell whose answer it was.
  const allowedCallbacks = new Set<string>()
  const statuses = new Map<number, number>()
  const user = (id: number): Record<string, unknown> => ({ id, is_bot: false, first_name: 'X' })
  const chat = (id: number): Record<string, unknown> => id < 0 ? { id, type: 'supergroup', title: 'G' } : { id, type: 'private', first_name: 'X' }
  const text = fc.oneof(
    { arbitrary: hostileString, weight: 4 },
    { arbitrary: fc.constantFrom(...COMMANDS), weight: 3 },
    { arbitrary: fc.integer({ min: 4000, max: 120_000 }).map((n) => 'long '.repeat(Math.ceil(n / 5)).slice(0, n)), weight: 1 }
  )
  const update = fc.record({
    who: fc.oneof({ arbitrary: fc.constantFrom(...STRANGERS), weight: 19 }, { arbitrary: fc.constantFrom(...ALLOWED), weight: 1 }),
    kind: fc.constantFrom('message', 'message', 'callback', 'forged-callback', 'group', 'edited', 'no-from', 'odd'),
    text,
    data: fc.oneof(hostileString, fc.constantFrom('cancel', 'q:cancel:1', 'm:claude:opus', 'btn:Yes', 'sf:../../outside', 'sf:/etc')),
    id: fc.oneof({ arbitrary: fc.constant(null), weight: 9 }, { arbitrary: fc.constantFrom(-1, 1.5, 'x', 2 ** 60, 0), weight: 1 })
  })
  const bodies = fc.oneof({ arbitrary: update.map((u) => ({ u })), weight: 9 }, { arbitrary: hostileBody.map((b) => ({ b })), weight: 1 })

  t.after(() => { t.diagnostic(`total ${Date.now() - started} ms`) })
  const cases = fc.tuple(bodies, fc.constantFrom('good', 'good', 'good', 'good', 'good', 'good', 'good', 'good', 'none', 'wrong'))
  await runCases(cases, { seed, total: CASES }, async ([input, secretKind]) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (secretKind !== 'none') headers['x-telegram-bot-api-secret-token'] = secretKind === 'good' ? SECRET : SECRET.slice(0, -1)
    let payload: string | Buffer
    let allowedOrigin = false
    if ('b' in input) {
      payload = input.b.payload ?? ''
      if (input.b.type !== undefined) headers['content-type'] = input.b.type
    } else {
      const u = input.u
      const id = u.id ?? ++updateId
      const stranger = !ALLOWED.includes(u.who)
      const from = user(u.who)
      const marker = `STRANGER-${id}`
      const words = stranger ? `${u.text} ${marker}` : u.text.replace(/STRANGER/g, 's')
      const ownChat = u.who
      let body: Record<string, unknown>
      switch (u.kind) {
        case 'callback':
        case 'forged-callback':
          body = { callback_query: { id: String(id), from, chat_instance: '1', data: stranger ? `${u.data}${marker}`.slice(0, 64) : u.data.replace(/STRANGER/g, 's'), message: { message_id: 5, date: 0, chat: chat(stranger ? TARGET : ownChat), from: { id: 1, is_bot: true, first_name: 'bot' }, text: 'menu' } } }
          break
        case 'group':
          body = { message: { message_id: 7, date: 0, chat: chat(-100500), from, text: `@${'test_bot'} ${words}` } }
          break
        case 'edited':
          body = { edited_message: { message_id: 7, date: 0, edit_date: 1, chat: chat(ownChat), from, text: words } }
          break
        case 'no-from':
          body = { message: { message_id: 7, date: 0, chat: chat(TARGET), text: words } }
          break
        case 'odd':
          body = { message: { message_id: 'x', chat: { id: TARGET }, from: 'nobody', text: 42 }, channel_post: { text: words } }
          break
        default:
          body = { message: { message_id: 7, date: 0, chat: chat(stranger ? TARGET : ownChat), from, text: words, entities: words.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: words.split(' ')[0]?.length ?? 1 }] : [] } }
      }
      allowedOrigin = !stranger && secretKind === 'good' && u.kind !== 'no-from' && u.kind !== 'odd'
      if (u.kind === 'callback' || u.kind === 'forged-callback') (stranger ? strangerCallbacks : allowedCallbacks).add(String(id))
      if (stranger) fromStrangers++
      else if (allowedOrigin) fromAllowed++
      payload = JSON.stringify({ update_id: id, ...body })
    }
    const res = await rig.app.inject({ method: 'POST', url: '/telegram/webhook', headers, payload })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    const context = `update (seed ${seed}): ${String(payload).slice(0, 200)}`
    assertAnswer(res, context)
    assertNoPollution(context)
    if (secretKind !== 'good') assert.equal(res.statusCode, 401, context)
  })

  const injected = Date.now()
  await waitFor(() => rig.app.inbox.inFlight() === 0 ? true : undefined, 120_000, 'updates to be processed')
  await waitFor(() => rig.app.runner.registry.list().length === 0 && rig.app.orchestrator.lanes.snapshot().every((q) => !q.running && q.queued === 0) ? true : undefined, 60_000, 'lanes to drain')

  t.diagnostic(`processing after the last answer took ${Date.now() - injected} ms`)
  // An allowed user's text in a group reaches the agent (every text is answered, as in the Python
  // version); a stranger's never does, wherever it was sent.
  const chatsOfAllowed = [...ALLOWED.map(String), '-100500']
  const fromStranger = prompts.filter((p) => p.prompt.includes('STRANGER-') || !chatsOfAllowed.includes(p.chatId))
  assert.deepEqual(fromStranger.map((p) => `${p.chatId}: ${p.prompt.slice(0, 120)}`), [], `seed ${seed}: strangers reached the agent`)
  const acts = ['sendMessage', 'editMessageText', 'editMessageReplyMarkup', 'sendChatAction', 'answerCallbackQuery', 'sendDocument', 'sendPhoto', 'deleteMessage', 'sendMessageDraft', 'setMessageReaction']
  const stray = acts.flatMap((m) => fake.callsOf(m).filter((c) => c.params['chat_id'] !== undefined && !chatsOfAllowed.includes(String(c.params['chat_id']))).map((c) => `${m} → ${String(c.params['chat_id'])}`))
  assert.deepEqual(stray, [], `seed ${seed}: the bot acted in a chat because of a stranger`)
  // A stranger's press is only answered with the refusal (so their client stops waiting); nothing else.
  const strangerAnswers = fake.callsOf('answerCallbackQuery').filter((c) => strangerCallbacks.has(String(c.params['callback_query_id'])) && !allowedCallbacks.has(String(c.params['callback_query_id'])))
  assert.deepEqual(strangerAnswers.filter((c) => c.params['text'] !== 'You are not allowed to use this bot.').map((c) => JSON.stringify(c.params)), [], 'a stranger\'s callback query was acted on')
  assert.deepEqual([...fake.callsOf('sendDocument'), ...fake.callsOf('sendPhoto')].map((c) => JSON.stringify(c.files)), [], 'no file outside the workspace was sent')
  for (const m of ALLOWED.flatMap((id) => fake.allMessages(id))) assert.ok(!m.text.includes(OUTSIDE_SECRET), 'the bait leaked into a message')
  t.diagnostic(`${CASES} updates (${fromStrangers} from strangers, ${fromAllowed} from allowed users): ${prompts.length} reached the agent, all from allowed users; answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`)
  assert.ok(prompts.length > 0, 'allowed users were served')
  await assertConfined(rig, ['workspace/escape-link.txt -> symlink'])
})

// Telegram's state in /api/status, `ductor status` and the log is the truth (issue 16, item 6):
// a real `ductor serve` against the fake Bot API made refusing, dropping, or unreachable.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'
import { waitFor, ductor, build } from '../helper.ts'

interface Status { telegram: string, telegram_state: { state: string, reason: string | null, retry_at: string | null, since: string, bot: string | null } | null }

async function statusOf (home: string): Promise<Status> {
  const token = (JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { admin: { token: string } }).admin.token
  const info = await readServiceInfo(join(home, 'state'))
  const url = info?.admin_url ?? info?.url ?? ''
  return await (await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json() as Status
}

const until = async (home: string, what: string, ok: (s: Status) => boolean): Promise<Status> =>
  await waitFor(async () => { const s = await statusOf(home); return ok(s) ? s : undefined }, 90_000, what)

test('Telegram refusing, then dropping polls: status says down with the reason, then up again; the log says so once per change', async (t) => {
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(fake.close)
  fake.fail('getMe', { status: 500, description: 'Internal Server Error' }, 2)
  const service = await build(t, { serve: true, env: { DUCTOR_TELEGRAM_TOKEN: fake.token, DUCTOR_TELEGRAM_API_ROOT: fake.apiRoot, DUCTOR_ALLOWED_USER_IDS: '42' } })

  const down = await until(service.home, 'down', (s) => s.telegram.startsWith('down'))
  assert.match(down.telegram, /^down: getMe failed: Telegram answered 500/)
  assert.ok(down.telegram_state?.retry_at !== null, 'it says when it tries again')
  const up = await until(service.home, 'up', (s) => s.telegram === 'up')
  assert.equal(up.telegram_state?.bot, 'ductor_test_bot')
  assert.equal(up.telegram_state?.reason, null)
  const cli = await ductor(['status'], service.env)
  assert.match(cli.stdout, /telegram +up\n/)

  fake.fail('getUpdates', { status: 'drop' }, 3)
  const dropped = await until(service.home, 'polling down', (s) => s.telegram.startsWith('down: polling failed'))
  assert.match(dropped.telegram, /^down: polling failed: /)
  await until(service.home, 'up again', (s) => s.telegram === 'up')

  await service.stop()
  const log = await readFile(join(service.home, 'logs', 'ductor.log'), 'utf8')
  const lines = log.split('\n').filter((l) => l.includes('"msg":"telegram: '))
  assert.ok(lines.some((l) => l.includes('"msg":"telegram: down: getMe failed: Telegram answered 500')), 'the log says why')
  assert.equal(lines.filter((l) => l.includes('telegram: up')).length, 2, 'up is logged at each recovery, not at every poll')
})

test('an unreachable Bot API: status and `ductor status` say down (cannot reach …) and keep retrying', async (t) => {
  // A port that refuses connections: bound, then closed.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const service = await build(t, { serve: true, env: { DUCTOR_TELEGRAM_TOKEN: '123456:TEST-fake-token', DUCTOR_TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`, DUCTOR_ALLOWED_USER_IDS: '42' } })
  const first = await until(service.home, 'down', (s) => s.telegram.startsWith('down'))
  assert.match(first.telegram, /^down: getMe failed: cannot reach the Bot API \(ECONNREFUSED\)/)
  const later = await until(service.home, 'a later retry', (s) => s.telegram_state?.retry_at !== first.telegram_state?.retry_at)
  assert.equal(later.telegram_state?.since, first.telegram_state?.since, 'still the same outage')
  assert.ok(Date.parse(later.telegram_state?.retry_at ?? '') - Date.parse(first.telegram_state?.retry_at ?? '') >= 1000, 'backoff grows')
  const cli = await ductor(['status'], service.env)
  assert.match(cli.stdout, /telegram +down: getMe failed: cannot reach the Bot API \(ECONNREFUSED\) \(ductor retries on its own; see the log/)
  await service.stop()
})

test('a token Telegram refuses: `ductor status` says ductor does not retry it (it said "keeps retrying" while the reason said to restart)', async (t) => {
  const fake = createFakeBotApi({ rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(fake.close)
  const service = await build(t, { serve: true, env: { DUCTOR_TELEGRAM_TOKEN: '999:wrong-token', DUCTOR_TELEGRAM_API_ROOT: fake.apiRoot, DUCTOR_ALLOWED_USER_IDS: '42' } })
  const down = await until(service.home, 'down', (s) => s.telegram.startsWith('down'))
  assert.equal(down.telegram_state?.retry_at, null, 'no retry is planned')
  const cli = await ductor(['status'], service.env)
  assert.match(cli.stdout, /telegram +down: .*Telegram does not know this bot token.* \(ductor does not retry this on its own; see the log/)
  assert.doesNotMatch(cli.stdout, /retries on its own/)
  await service.stop()
})

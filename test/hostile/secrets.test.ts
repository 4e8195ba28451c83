// Secrets (issue 9): a representative session — chats (success, failure, SSE, stop), config read and
// changes, cron, sessions, memory, runs, refused requests — with known secret values. Every log line
// (the real logger with its redaction paths, but without the last-resort scrubber that masks known
// values) and every API response body is scanned for each secret, raw, URL-encoded and base64: none.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { createCore } from '../../src/core/create-core.ts'
import { homePaths } from '../../src/home/paths.ts'
import { seedHome } from '../../src/home/seed.ts'
import { createLogger } from '../../src/logger.ts'
import { systemClock } from '../../src/clock.ts'
import { writeJsonAtomic } from '../../src/store/atomic-json.ts'
import { fakeClis, tempDir, testConfig, waitFor } from '../helper.ts'

const SECRETS = {
  bot: '7000000001:AAH-bot-token-Secret_value-0123456789',
  admin: 'admin-token-SECRET-0f9e8d7c6b5a43210fedcba9',
  webhookSecret: 'tg-webhook-secret-SECRET-1a2b3c4d5e6f7a8b9c',
  hooksToken: 'global-hooks-token-SECRET-9z8y7x6w5v4u3t2s1r',
  newWebhookSecret: 'rotated-webhook-secret-SECRET-77aa88bb99cc'
}

/** Each secret as it could appear: raw, URL-encoded, base64 / base64url. */
function variants (secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')])]
}

test('a representative session shows no secret in any log line or API response', { timeout: 60_000 }, async (t) => {
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  const paths = homePaths(home)
  await writeJsonAtomic(paths.config, testConfig({
    telegram_token: SECRETS.bot,
    allowed_user_ids: [1234],
    admin: { token: SECRETS.admin },
    telegram: { webhook_secret: SECRETS.webhookSecret },
    webhooks: { token: SECRETS.hooksToken },
    cli_paths: { claude: bin.claude, codex: bin.codex }
  }))
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const { logger, close } = createLogger({ level: 'trace', extra: { write: (line: string) => sink.write(line) }, quietStdout: true })
  t.after(close)
  const loaded = await loadConfig({ home, env: {} })
  await seedHome(home, { variant: 'both' })
  const env = { PATH: '/usr/bin:/bin', HOME: home, DUCTOR_TELEGRAM_TOKEN: SECRETS.bot }
  const core = await createCore({ ...loaded, configPath: loaded.path, paths, logger, clock: systemClock, env })
  const app = await buildApp({ config: loaded.config, paths, logger, version: '0.0.0-test', core, requestRestart: () => {} })
  t.after(async () => { await app.close() })

  const bodies: string[] = []
  let token = SECRETS.admin
  const call = async (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<{ statusCode: number, body: string }> => {
    const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) })
    bodies.push(`${method} ${url} → ${res.statusCode}: ${res.body}`)
    return res
  }

  assert.equal((await call('POST', '/api/chats/1234/messages', { text: 'hello [[reply:hi there]]' })).statusCode, 200)
  // CLIs that fail dumping their environment: the agent holds the admin token; the bot token is kept from it.
  await call('POST', '/api/chats/1234/messages', { text: '[[reply:x]] [[exit:3]] [[stderr-env:DUCTOR_API_TOKEN]]' })
  await call('POST', '/api/chats/1234/messages', { text: '[[reply:x]] [[exit:1]] [[stderr-env:DUCTOR_TELEGRAM_TOKEN]]' })
  await call('POST', '/api/chats/1234/messages', { text: '[[crash:2]]' })
  await call('POST', '/api/chats/1234/messages', { text: 'stream me' }, { accept: 'text/event-stream' })
  const hanging = call('POST', '/api/chats/55/messages', { text: '[[hang]]' })
  await waitFor(() => core.registry.list().length > 0 ? true : undefined)
  await call('GET', '/api/runs/active')
  await call('GET', '/api/status')
  await call('POST', '/api/chats/55/stop')
  await hanging
  await call('GET', '/api/config')
  await call('PATCH', '/api/config', { model: 'sonnet', streaming: { min_chars: 100 } })
  await call('PATCH', '/api/config', { cli_timeout: 'soon' })
  await call('PATCH', '/api/config', { telegram: { webhook_secret: SECRETS.newWebhookSecret } })
  await call('PATCH', '/api/config', { webhooks: { token: '' } })
  await call('PATCH', '/api/config', { admin: { token: 42 } })
  await call('GET', '/api/config')
  await call('POST', '/api/cron', { id: 'daily', title: 'Daily', schedule: '0 9 * * *', task_description: 'say hi' })
  await call('GET', '/api/cron')
  await call('PATCH', '/api/cron/daily', { schedule: 'not a schedule' })
  await call('POST', '/api/cron/daily/run')
  await waitFor(() => core.cron.running().length === 0 ? true : undefined, 10_000)
  await call('GET', '/api/cron/daily/runs')
  await call('DELETE', '/api/cron/daily?delete_folder=true')
  await call('GET', '/api/sessions')
  await call('GET', '/api/sessions/1234')
  await call('DELETE', '/api/sessions/1234?provider=claude')
  await call('GET', '/api/memory')
  await call('PUT', '/api/memory', { content: 'likes tea' })
  await call('GET', '/api/runs?limit=100')
  await call('GET', '/api/openapi.json')
  await call('GET', '/api/nope')
  await call('GET', '/api/status', undefined, { 'x-forwarded-for': '203.0.113.1' })
  token = SECRETS.admin.slice(0, -1) + 'X'
  await call('GET', '/api/config')
  token = SECRETS.bot
  await call('GET', '/api/config')
  token = SECRETS.admin
  await app.close()

  assert.ok(lines.length > 20, `only ${lines.length} log lines`)
  assert.ok(bodies.length > 30)
  const found: string[] = []
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const form of variants(secret)) {
      for (const line of lines) if (line.includes(form)) found.push(`log has ${name}: ${line.slice(0, 400)}`)
      for (const body of bodies) if (body.includes(form)) found.push(`response has ${name}: ${body.slice(0, 400)}`)
    }
  }
  assert.deepEqual(found, [], `secrets found: ${found.length}`)
  t.diagnostic(`${lines.length} log lines and ${bodies.length} responses scanned for ${Object.keys(SECRETS).length} secrets in ${Object.values(SECRETS).flatMap(variants).length} forms: 0 found`)
})

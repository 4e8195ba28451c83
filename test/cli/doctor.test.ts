import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, ductor } from '../helper.ts'
import { fakeExecutable, freePort, json, localServer } from '../ops/helpers.ts'

const TOKEN = '123456789:AAHsecretsecretsecretsecretsecret12'

async function setup (t: import('node:test').TestContext) {
  const dir = await tempDir(t)
  const bin = join(dir, 'bin')
  await fakeExecutable(bin, 'claude', 'echo "2.1.197 (Claude Code)"')
  await fakeExecutable(bin, 'codex', 'echo "codex-cli 0.169.0"')
  const userHome = join(dir, 'user')
  await mkdir(join(userHome, '.claude'), { recursive: true })
  await writeFile(join(userHome, '.claude', '.credentials.json'), '{}')
  const api = await localServer(t, (req, res) => {
    if (req.url === `/bot${TOKEN}/getMe`) return json(res, 200, { ok: true, result: { username: 'my_ductor_bot' } })
    if (req.url === `/bot${TOKEN}/getWebhookInfo`) return json(res, 200, { ok: true, result: { url: '', pending_update_count: 0 } })
    json(res, 404, { ok: false, description: 'Not Found' })
  })
  const env = {
    HOME: userHome,
    DUCTOR_HOME: join(dir, 'home'),
    PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    DUCTOR_PORT: String(await freePort()),
    DUCTOR_TELEGRAM_TOKEN: TOKEN,
    DUCTOR_ALLOWED_USER_IDS: '42',
    DUCTOR_TELEGRAM_API_ROOT: api.url,
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
    CODEX_API_KEY: '',
    CLAUDE_CONFIG_DIR: '',
    CODEX_HOME: '',
    CLAUDE_CODE_OAUTH_TOKEN: ''
  }
  return { dir, env, api }
}

test('`ductor doctor --json` on a temporary home reports every check, touches nothing and never prints the token', async (t) => {
  const { env, api } = await setup(t)
  const result = await ductor(['doctor', '--json'], env)
  assert.equal(result.code, 0, result.stdout + result.stderr)
  const checks = JSON.parse(result.stdout) as Array<{ name: string, status: string, detail: string, fix?: string }>
  const byName = new Map(checks.map((c) => [c.name, c]))
  for (const name of ['Node.js', 'config', 'home', 'claude CLI', 'claude login', 'codex CLI', 'codex login', 'port', 'exposure', 'bot token', 'Bot API', 'webhook']) {
    assert.ok(byName.has(name), `reports ${name}`)
  }
  for (const c of checks) assert.ok(['ok', 'warn', 'fail'].includes(c.status) && c.detail !== '', `${c.name} has a status and a detail`)
  assert.equal(byName.get('claude CLI')?.status, 'ok')
  assert.match(byName.get('claude CLI')?.detail ?? '', /^2\.1\.197 \(Claude Code\)/)
  assert.equal(byName.get('claude login')?.status, 'ok')
  assert.equal(byName.get('codex login')?.status, 'warn', 'codex has no credentials, and it is not the default')
  assert.equal(byName.get('config')?.status, 'warn', 'no config file yet')
  assert.equal(byName.get('home')?.status, 'warn', 'no home yet')
  assert.equal(byName.get('port')?.detail, `127.0.0.1:${env.DUCTOR_PORT} is free`)
  assert.equal(byName.get('Bot API')?.detail, `reachable at ${api.url}; the bot is @my_ductor_bot`)
  assert.equal(byName.get('webhook')?.detail, 'none set (polling mode)')
  assert.ok(!result.stdout.includes(TOKEN.split(':')[1] as string), 'the token never shows')
  await assert.rejects(access(env.DUCTOR_HOME), 'doctor creates no home')
})

test('`ductor doctor` prints a checklist with fixes and exits 1 when a check fails', async (t) => {
  const { env } = await setup(t)
  await mkdir(join(env.DUCTOR_HOME, 'config'), { recursive: true })
  await writeFile(join(env.DUCTOR_HOME, 'config', 'config.json'), JSON.stringify({ cli_timeout: 'soon' }))
  const result = await ductor(['doctor'], env)
  assert.equal(result.code, 1)
  const lines = result.stdout.split('\n')
  assert.equal(lines[0], `ductor doctor: ${env.DUCTOR_HOME}`)
  assert.ok(lines.some((l) => /^✓ Node\.js +v\d+\.\d+\.\d+$/.test(l)))
  assert.ok(lines.some((l) => /^✗ config +config\.json: \/cli_timeout: "soon" is not allowed/.test(l)))
  assert.ok(lines.some((l) => /^ +fix: correct .*config\.json, then run ductor doctor again$/.test(l)))
  assert.match(result.stdout, /^1 failing, \d+ warnings?\.$/m)
  assert.equal(result.stderr, '')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig, ConfigError, listenAddress, telegramMode, trustProxySetting } from '../src/config.ts'
import { tempDir } from './helper.ts'

async function writeConfig (home: string, value: unknown): Promise<void> {
  await mkdir(join(home, 'config'), { recursive: true })
  await writeFile(join(home, 'config', 'config.json'), typeof value === 'string' ? value : JSON.stringify(value))
}

const readBack = async (home: string) => JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8'))

test('a missing config file is created with the SPEC defaults and generated secrets', async (t) => {
  const home = await tempDir(t)
  const { config, written } = await loadConfig({ home, env: {} })
  assert.equal(written, true)
  const file = await readBack(home)
  assert.equal(file.provider, 'claude')
  assert.equal(file.model, 'opus')
  assert.equal(file.reasoning_effort, 'medium')
  assert.equal(file.permission_mode, 'bypassPermissions')
  assert.equal(file.cli_timeout, 600)
  assert.deepEqual(file.cli_parameters, { claude: [], codex: [] })
  assert.equal(file.max_turns, null)
  assert.equal(file.idle_timeout_minutes, 1440)
  assert.equal(file.daily_reset_hour, 4)
  assert.equal(file.file_access, 'all')
  assert.equal(file.log_level, 'INFO')
  assert.deepEqual(file.streaming, { enabled: true, min_chars: 200, max_chars: 4000, idle_ms: 800, edit_interval_seconds: 2, max_edit_failures: 3, append_mode: false, sentence_break: true })
  assert.deepEqual({ ...file.heartbeat, prompt: undefined }, { enabled: false, interval_minutes: 30, cooldown_minutes: 5, quiet_start: 21, quiet_end: 8, prompt: undefined, ack_token: 'HEARTBEAT_OK' })
  assert.deepEqual(file.cleanup, { enabled: true, telegram_files_days: 30, output_to_user_days: 30, check_hour: 3 })
  assert.equal(file.webhooks.port, 8742)
  assert.equal(file.webhooks.max_body_bytes, 262144)
  assert.equal(file.webhooks.rate_limit_per_minute, 30)
  assert.equal(file.limits.max_concurrent_runs, 4)
  assert.equal(file.telegram.webhook_path, '/telegram/webhook')
  for (const secret of [file.admin.token, file.telegram.webhook_secret, file.webhooks.token]) {
    assert.ok(Buffer.from(secret, 'base64url').length >= 32, 'secrets carry at least 32 random bytes')
  }
  assert.notEqual(file.admin.token, file.webhooks.token)
  assert.deepEqual(listenAddress(config), { host: '127.0.0.1', port: 8742 })
  assert.equal(telegramMode(config), 'polling')
})

test('secrets are generated once and kept on the next start', async (t) => {
  const home = await tempDir(t)
  const first = await loadConfig({ home, env: {} })
  const second = await loadConfig({ home, env: {} })
  assert.equal(second.written, false, 'a complete file is not rewritten')
  assert.equal(second.config.admin.token, first.config.admin.token)
  assert.equal(second.config.webhooks.token, first.config.webhooks.token)
})

test('a config written by the original Python ductor loads unchanged: missing keys filled, unknown kept', async (t) => {
  const home = await tempDir(t)
  const original = {
    telegram_token: '123456789:AAHfakefakefakefakefakefakefakefake',
    allowed_user_ids: [11111111],
    provider: 'claude',
    model: 'sonnet',
    reasoning_effort: 'high',
    permission_mode: 'bypassPermissions',
    cli_timeout: 900.0,
    cli_parameters: { claude: ['--verbose'], codex: [] },
    max_turns: null,
    max_budget_usd: 2.5,
    idle_timeout_minutes: 600,
    max_session_messages: null,
    daily_reset_enabled: true,
    daily_reset_hour: 5,
    session_age_warning_hours: 12,
    user_timezone: 'Europe/Berlin',
    file_access: 'workspace',
    log_level: 'WARNING',
    language: 'de',
    streaming: { enabled: true, min_chars: 150, max_chars: 3500, idle_ms: 700, edit_interval_seconds: 1.5, max_edit_failures: 3, append_mode: false, sentence_break: true },
    docker: { enabled: false, image_name: 'ductor-sandbox', container_name: 'ductor-sandbox', auto_build: true },
    heartbeat: { enabled: true, interval_minutes: 60, cooldown_minutes: 5, quiet_start: 22, quiet_end: 7, prompt: 'check in', ack_token: 'HEARTBEAT_OK' },
    cleanup: { enabled: true, telegram_files_days: 14, output_to_user_days: 30, check_hour: 3 },
    webhooks: { enabled: true, host: '127.0.0.1', port: 8742, token: 'original-global-token-abcdef', max_body_bytes: 262144, rate_limit_per_minute: 30, extra_knob: 1 }
  }
  await writeConfig(home, original)
  const { config } = await loadConfig({ home, env: {} })
  const file = await readBack(home)
  for (const [key, value] of Object.entries(original)) assert.deepEqual(file[key], value, `${key} kept as written`)
  assert.equal(config.model, 'sonnet')
  assert.equal(config.webhooks.token, 'original-global-token-abcdef', 'an existing secret is not replaced')
  assert.equal(file.admin.enabled, true, 'new sections are filled in')
  assert.equal(typeof file.admin.token, 'string')
})

test('environment variables override the file without being written to it', async (t) => {
  const home = await tempDir(t)
  await writeConfig(home, { model: 'opus' })
  const { config } = await loadConfig({
    home,
    env: {
      DUCTOR_HOST: '0.0.0.0',
      DUCTOR_PORT: '9000',
      DUCTOR_PUBLIC_URL: 'https://bot.example.com',
      DUCTOR_TELEGRAM_TOKEN: '1:env-token',
      DUCTOR_ALLOWED_USER_IDS: '1, 2,3',
      DUCTOR_ADMIN_TOKEN: 'env-admin-token',
      DUCTOR_TELEGRAM_API_ROOT: 'http://127.0.0.1:1234',
      DUCTOR_PROVIDER: 'codex',
      DUCTOR_MODEL: 'gpt-5.5',
      DUCTOR_LOG_LEVEL: 'debug',
      DUCTOR_USER_TIMEZONE: 'America/New_York'
    }
  })
  assert.deepEqual(listenAddress(config), { host: '0.0.0.0', port: 9000 })
  assert.equal(telegramMode(config), 'webhook')
  assert.equal(config.telegram_token, '1:env-token')
  assert.deepEqual(config.allowed_user_ids, [1, 2, 3])
  assert.equal(config.admin.token, 'env-admin-token')
  assert.equal(config.telegram.api_root, 'http://127.0.0.1:1234')
  assert.equal(config.provider, 'codex')
  assert.equal(config.model, 'gpt-5.5')
  assert.equal(config.log_level, 'debug')
  assert.equal(config.user_timezone, 'America/New_York')
  const file = await readBack(home)
  assert.equal(file.model, 'opus')
  assert.equal(file.telegram_token, '')
  assert.notEqual(file.admin.token, 'env-admin-token')
})

test('an invalid value names the key, the value and what is allowed', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ cli_timeout: 'soon' }, /cli_timeout.*"soon".*a number from 1 to 86400/],
    [{ provider: 'gemini' }, /provider.*"gemini".*one of "claude", "codex"/],
    [{ streaming: { edit_interval_seconds: 0 } }, /streaming\/edit_interval_seconds.*0.*a number from 0.5 to 60/],
    [{ allowed_user_ids: ['me'] }, /allowed_user_ids\/0.*"me".*an integer/],
    [{ user_timezone: 'Mars/Olympus' }, /user_timezone.*"Mars\/Olympus".*IANA/],
    [{ daily_reset_hour: 24 }, /daily_reset_hour.*24.*an integer from 0 to 23/]
  ]
  for (const [value, message] of cases) {
    const home = await tempDir(t)
    await writeConfig(home, value)
    await assert.rejects(loadConfig({ home, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.match(err.message, message)
      assert.doesNotMatch(err.message, /\n/, 'one line')
      return true
    })
    assert.deepEqual(await readBack(home), value, 'an invalid file is left as the user wrote it')
  }
})

test('an invalid environment value names the variable', async (t) => {
  const home = await tempDir(t)
  await assert.rejects(loadConfig({ home, env: { DUCTOR_PORT: 'eighty' } }), /DUCTOR_PORT: "eighty" is not a port/)
  await assert.rejects(loadConfig({ home, env: { DUCTOR_PROVIDER: 'gemini' } }), /DUCTOR_PROVIDER \(\/provider\): "gemini".*one of "claude", "codex"/)
  await assert.rejects(loadConfig({ home, env: { DUCTOR_ALLOWED_USER_IDS: '12,abc' } }), /DUCTOR_ALLOWED_USER_IDS: "abc"/)
})

test('a config file that is not JSON is refused with file, line and column, and never replaced', async (t) => {
  const home = await tempDir(t)
  const text = '{\n  "telegram_token": "123:abc",\n  "model": "opus",\n}\n'
  await writeConfig(home, text)
  await assert.rejects(loadConfig({ home, env: {} }), (err: Error) => {
    assert.equal(err.name, 'UserFileError')
    assert.equal(err.message, `${join(home, 'config', 'config.json')} is not valid JSON: line 4, column 1: Expected double-quoted property name; ductor left it as it is; fix it and start ductor again`)
    return true
  })
  const { readdir, readFile } = await import('node:fs/promises')
  assert.deepEqual(await readdir(join(home, 'config')), ['config.json'], 'nothing moved aside or added')
  assert.equal(await readFile(join(home, 'config', 'config.json'), 'utf8'), text, 'the text is as the user left it')
  await writeConfig(home, '[1]')
  await assert.rejects(loadConfig({ home, env: {} }), /config\.json: holds a list, not a JSON object of settings/)
})

test('unknown keys are kept and reported with the nearest known key', async (t) => {
  const home = await tempDir(t)
  await writeConfig(home, JSON.stringify({ cli_timout: 900, heartbeat: { quiet_strat: 22 }, ductor_home: '~/.ductor', zzz_custom: 1 }))
  const { unknownKeys, fileConfig } = await loadConfig({ home, env: {} })
  assert.deepEqual(unknownKeys, [
    { key: 'cli_timout', suggestion: 'cli_timeout' },
    { key: 'heartbeat.quiet_strat', suggestion: 'heartbeat.quiet_start' },
    { key: 'zzz_custom', suggestion: null }
  ], 'the Python ductor\'s ductor_home is known to be unused, not reported')
  assert.equal((fileConfig as unknown as Record<string, unknown>)['cli_timout'], 900, 'kept')
  assert.equal(fileConfig.cli_timeout, 600)
})

test('server.trust_proxy: addresses, CIDR ranges, keywords or a hop count; true loads as loopback; a wrong entry names itself', async (t) => {
  assert.deepEqual(trustProxySetting(false), { ok: true, value: false })
  assert.deepEqual(trustProxySetting(true), { ok: true, value: ['loopback'] }, 'true never believes the client\'s own X-Forwarded-For')
  assert.deepEqual(trustProxySetting(2), { ok: true, value: 2 })
  assert.deepEqual(trustProxySetting('127.0.0.1, 10.0.0.0/8'), { ok: true, value: ['127.0.0.1', '10.0.0.0/8'] })
  assert.deepEqual(trustProxySetting(['::1', 'fd00::/8', 'uniquelocal']), { ok: true, value: ['::1', 'fd00::/8', 'uniquelocal'] })
  for (const bad of ['everyone', '10.0.0.0/33', '300.1.1.1', '10.0.0.1/8/1', '::1/129']) assert.equal(trustProxySetting([bad]).ok, false, bad)

  const home = await tempDir(t)
  await writeConfig(home, { server: { trust_proxy: ['127.0.0.1', 'proxy.example.com'] } })
  await assert.rejects(loadConfig({ home, env: {} }), (err: unknown) => err instanceof ConfigError && err.key === 'server.trust_proxy' && /"proxy\.example\.com" is not an IP address/.test(err.message))
  await writeConfig(home, { server: { trust_proxy: true } })
  assert.equal((await loadConfig({ home, env: {} })).config.server.trust_proxy, true, 'an old config with true still loads')
})

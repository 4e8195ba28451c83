import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, ductor } from '../helper.ts'
import { loadConfig } from '../../src/config.ts'

const TOKEN = '123456789:AAHexampleexampleexampleexampleexa'

test('`ductor init --non-interactive` writes a valid config with the given answers', async (t) => {
  const home = await tempDir(t)
  const result = await ductor(['init', '--non-interactive', '--token', TOKEN, '--user-id', '111,222', '--provider', 'codex', '--timezone', 'Europe/Berlin'], { DUCTOR_HOME: home })
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /Wrote .*config\.json/)
  const file = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8'))
  assert.equal(file.telegram_token, TOKEN)
  assert.deepEqual(file.allowed_user_ids, [111, 222])
  assert.equal(file.provider, 'codex')
  assert.equal(file.model, 'gpt-5.5')
  assert.equal(file.user_timezone, 'Europe/Berlin')
  const { config } = await loadConfig({ home, env: {} })
  assert.equal(config.telegram_token, TOKEN, 'the service loads what init wrote')
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(TOKEN.split(':')[1] ?? ''), 'the token is not echoed')
})

test('`ductor init` refuses bad answers with a clear message and changes nothing', async (t) => {
  const home = await tempDir(t)
  const bad = await ductor(['init', '--non-interactive', '--timezone', 'Moon/Base'], { DUCTOR_HOME: home })
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /--timezone: "Moon\/Base" is not an IANA time zone/)
  const token = await ductor(['init', '--non-interactive', '--token', 'nope'], { DUCTOR_HOME: home })
  assert.match(token.stderr, /--token: this is not a bot token/)
  const file = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8'))
  assert.equal(file.telegram_token, '')
  assert.equal(file.user_timezone, '')
})

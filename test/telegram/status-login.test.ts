import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helper.ts'
import { startBot } from './helpers.ts'

test('/status says per CLI whether it is logged in and how old the login is (as the Python version does)', { timeout: 120_000 }, async (t) => {
  const userHome = await tempDir(t)
  await mkdir(join(userHome, '.claude'), { recursive: true })
  const credentials = join(userHome, '.claude', '.credentials.json')
  await writeFile(credentials, '{}')
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000 - 60_000)
  await utimes(credentials, threeDaysAgo, threeDaysAgo)
  const bot = await startBot(t, { env: { HOME: userHome, OPENAI_API_KEY: '', CODEX_API_KEY: '', ANTHROPIC_API_KEY: '', CLAUDE_CODE_OAUTH_TOKEN: '', CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' } })
  await bot.say('/status')
  const status = await bot.waitMessage((m) => /Claude Code: /.test(m.text), 'the status')
  assert.match(status.text, /Claude Code: installed, logged in 3 days ago/)
  assert.match(status.text, /Codex: installed, not logged in \(run codex login\)/)
})

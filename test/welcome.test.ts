import { test } from 'node:test'
import assert from 'node:assert/strict'
import { homePaths } from '../src/home/paths.ts'
import { welcomeOnce } from '../src/welcome.ts'
import { tempDir, testConfig } from './helper.ts'

/** The first-start block `ductor serve` prints (the real service's is checked in test/newcomer/first-hour.test.ts). */
test('the first-start block says what Telegram is doing when it prints: a refused token is "down" with the reason, not "write to your bot"', async (t) => {
  const config = testConfig({ telegram_token: '999:wrong-token', allowed_user_ids: [42] })
  const refused = 'getMe was refused (401): Telegram does not know this bot token. Check telegram_token (from @BotFather), then restart ductor'
  const down = await welcomeOnce({ url: 'http://127.0.0.1:8742', paths: homePaths(await tempDir(t)), config, envToken: false, telegram: { state: 'down', reason: refused, retry_at: null } })
  assert.match(down ?? '', new RegExp(`\\n  Telegram +down: ${refused.replace(/[().]/g, '\\$&')} \\(ductor does not retry this on its own\\)\\n`))
  assert.doesNotMatch(down ?? '', /write to your bot/)
  const connecting = await welcomeOnce({ url: 'http://127.0.0.1:8742', paths: homePaths(await tempDir(t)), config, envToken: false, telegram: { state: 'connecting', reason: null, retry_at: null } })
  assert.match(connecting ?? '', /Telegram +connecting \(polling\)\. Next: write to your bot in Telegram/)
})

test('a Telegram failure ductor retries (the network at the first start) keeps the connecting line and its next step', async (t) => {
  const config = testConfig({ telegram_token: '999:some-token', allowed_user_ids: [42] })
  const text = await welcomeOnce({ url: 'http://127.0.0.1:8742', paths: homePaths(await tempDir(t)), config, envToken: false, telegram: { state: 'down', reason: 'getMe failed: cannot reach the Bot API (ECONNREFUSED)', retry_at: new Date().toISOString() } })
  assert.match(text ?? '', /Telegram +connecting \(polling\)\. Next: write to your bot in Telegram/)
})

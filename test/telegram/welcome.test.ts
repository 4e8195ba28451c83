import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helper.ts'
import { until, startBot } from './helpers.ts'

type Button = { text: string, callback_data?: string, url?: string }
type Keyboard = { inline_keyboard: Button[][] }

/** An environment where only the given CLIs are logged in (a user home of its own, no API keys). */
async function loginEnv (t: Parameters<typeof tempDir>[0], logged: { claude?: boolean, codex?: boolean }): Promise<NodeJS.ProcessEnv> {
  const userHome = await tempDir(t)
  if (logged.claude === true) {
    await mkdir(join(userHome, '.claude'), { recursive: true })
    await writeFile(join(userHome, '.claude', '.credentials.json'), '{}')
  }
  if (logged.codex === true) {
    await mkdir(join(userHome, '.codex'), { recursive: true })
    await writeFile(join(userHome, '.codex', 'auth.json'), '{"OPENAI_API_KEY":null,"tokens":{"access_token":"x"}}')
  }
  return { HOME: userHome, OPENAI_API_KEY: '', CODEX_API_KEY: '', ANTHROPIC_API_KEY: '', CLAUDE_CODE_OAUTH_TOKEN: '', CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' }
}

test('/start: the auth block says which CLI is logged in, and each quick-start prompt asks the agent exactly that', { timeout: 120_000 }, async (t) => {
  const bot = await startBot(t, { env: await loginEnv(t, { claude: true }) })
  const runs = (): number => bot.app.stores.runs.list().length
  await bot.say('/start')
  const welcome = await bot.waitMessage((m) => m.text.startsWith('Hi Ann!'), 'the welcome')
  assert.match(welcome.text, /✅ Claude Code is logged in\. Default: claude · opus\./)
  assert.match(welcome.text, /Codex is not: to use it too, run codex login on the machine\./)
  const rows = (welcome.reply_markup as Keyboard).inline_keyboard
  assert.deepEqual(rows.slice(0, 3).map((r) => r.map((b) => b.text)), [['👋 What do you need to know about me?'], ['✨ Show me what you can do!'], ['🖥 Give me a system tour!']], 'three prompts, one per row, first')
  assert.equal(runs(), 0, '/start itself starts nothing')

  // A double tap: both presses carry the welcome as it was, before the ✅ mark.
  await Promise.all([bot.press(welcome, 'w:2'), bot.press(welcome, 'w:2')])
  const reply = await bot.waitMessage((m) => m.text === 'echo: What can you do? Walk me through your capabilities!', 'the agent\'s answer to the prompt')
  assert.ok(reply !== undefined)
  await until(() => bot.fake.callsOf('answerCallbackQuery').some((c) => c.params.text === 'Already chosen.'), 'the second tap to be answered "Already chosen."')
  assert.equal(runs(), 1, 'a double tap, one run')
  // The pressed prompt is marked; the other buttons stay usable.
  const edited = bot.messages().find((m) => m.message_id === welcome.message_id)
  const after = (edited?.reply_markup as Keyboard).inline_keyboard.flat().map((b) => b.text)
  assert.ok(after.includes('✅ ✨ Show me what you can do!') && after.includes('👋 What do you need to know about me?') && after.includes('📊 Status'), after.join(' | '))
  // A stale prompt button (an older welcome's) starts nothing.
  await bot.press(welcome, 'w:9')
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(runs(), 1)
})

test('/start with no CLI logged in says what to run on the machine', { timeout: 120_000 }, async (t) => {
  const bot = await startBot(t, { env: await loginEnv(t, {}) })
  await bot.say('/start')
  const welcome = await bot.waitMessage((m) => m.text.startsWith('Hi Ann!'), 'the welcome')
  assert.match(welcome.text, /⚠️ No CLI is logged in yet, so I cannot answer\. For Claude Code, run claude on the machine and log in; for Codex, run codex login on the machine\. Then send \/start again\./)
})

test('/start when only Codex is logged in and the default is Claude: says so and points at /model', { timeout: 120_000 }, async (t) => {
  const bot = await startBot(t, { env: await loginEnv(t, { codex: true }) })
  await bot.say('/start')
  const welcome = await bot.waitMessage((m) => m.text.startsWith('Hi Ann!'), 'the welcome')
  assert.match(welcome.text, /✅ Codex is logged in\./)
  assert.match(welcome.text, /The default is claude, which is not logged in: switch with \/model\./)
})

test('/info has link buttons that open pages and start nothing', { timeout: 120_000 }, async (t) => {
  const bot = await startBot(t)
  await bot.say('/info')
  const info = await bot.waitMessage((m) => m.text.startsWith('ductor 0.0.0-test'), '/info')
  const buttons = (info.reply_markup as Keyboard).inline_keyboard.flat()
  assert.deepEqual(buttons.map((b) => b.text), ['📦 Package', '📝 Versions', '📖 Read me', '🐍 Python ductor'])
  for (const b of buttons) {
    assert.match(b.url ?? '', /^https:\/\//, `${b.text} opens a page`)
    assert.equal(b.callback_data, undefined, `${b.text} sends nothing to the bot`)
  }
  assert.equal(bot.app.stores.runs.list().length, 0)
})

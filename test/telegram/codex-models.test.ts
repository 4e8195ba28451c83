import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../helper.ts'
import { setCodexCatalog } from '../../src/models.ts'
import { startBot } from './helpers.ts'

const FIXTURE = fileURLToPath(new URL('../fixtures/cli/codex-debug-models.json', import.meta.url))

type Keyboard = { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }

test('/model offers the models the installed codex lists, and a typed Codex id it does not list is refused with the choices', { timeout: 120_000 }, async (t) => {
  t.after(() => { setCodexCatalog(null) })
  const bot = await startBot(t, { env: { FAKE_CODEX_MODELS: FIXTURE } })
  // Learned at the start and cached for a day.
  await waitFor(async () => await access(join(bot.paths.state, 'codex-models.json')).then(() => true, () => undefined), 20_000, 'the cached codex models')

  await bot.say('/model codex')
  const list = await bot.waitMessage((m) => m.text.startsWith('Codex models:'), 'the Codex models')
  assert.deepEqual((list.reply_markup as Keyboard).inline_keyboard.flat().map((b) => b.text), ['gpt-6.1-sol', 'gpt-6-astra', 'gpt-6-sol', 'gpt-6-luna', 'gpt-5.6-sol', 'gpt-6.1-terra', 'gpt-5.6-terra', 'gpt-5.6-luna', 'gpt-5.5'])

  await bot.say('/model gpt-5.5-mini')
  const refused = await bot.waitMessage((m) => m.text.startsWith('Codex has no model'), 'the refusal')
  assert.equal(refused.text, 'Codex has no model "gpt-5.5-mini" here. The installed codex offers: gpt-6.1-sol, gpt-6-astra, gpt-6-sol, gpt-6-luna, gpt-5.6-sol, gpt-6.1-terra, gpt-5.6-terra, gpt-5.6-luna, gpt-5.5.')
  assert.equal(bot.app.settings.config().model, 'opus', 'nothing was switched')

  await bot.say('/model gpt-5.6-sol high')
  await bot.waitMessage((m) => /^Switched the default to Codex · gpt-5\.6-sol \(reasoning high\)/.test(m.text), 'the switch')
  assert.deepEqual([bot.app.settings.config().provider, bot.app.settings.config().model], ['codex', 'gpt-5.6-sol'])
})

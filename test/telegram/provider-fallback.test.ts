import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, waitFor } from '../helper.ts'
import { startBot } from './helpers.ts'
import { equivalentModel } from '../../src/models.ts'

/**
 * The provider fallback (issue 17, ADR 0028), through Telegram updates with the fake CLIs: Claude
 * (the default) is not logged in on this machine, Codex is. As in the Python ductor the message is
 * answered by Codex's equivalent model — and, unlike there, the chat is told once, `/status` says
 * so, the log has it, and config.json keeps the user's default. `provider_fallback: false` turns it off.
 */

const noLoginEnv = { OPENAI_API_KEY: '', CODEX_API_KEY: '', ANTHROPIC_API_KEY: '', CLAUDE_CODE_OAUTH_TOKEN: '', CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' }

async function codexOnlyMachine (t: test.TestContext): Promise<{ userHome: string, records: string }> {
  const userHome = await tempDir(t)
  await mkdir(join(userHome, '.codex'), { recursive: true })
  await writeFile(join(userHome, '.codex', 'auth.json'), '{"OPENAI_API_KEY":null,"tokens":{}}')
  const records = join(userHome, 'records')
  await mkdir(records)
  return { userHome, records }
}

async function runOf (records: string, marker: string): Promise<{ argv: string[] }> {
  return await waitFor(async () => {
    for (const name of await readdir(records)) {
      const r = JSON.parse(await readFile(join(records, name), 'utf8').catch(() => '{}')) as { argv?: string[] }
      if (r.argv?.some((a) => a.includes(marker)) === true) return r as { argv: string[] }
    }
    return undefined
  }, 30_000, `the CLI run of "${marker}"`)
}

test('Claude not logged in, Codex logged in: Codex\'s equivalent model answers, the chat is told once, /status and the log say so', { timeout: 120_000 }, async (t) => {
  const { userHome, records } = await codexOnlyMachine(t)
  // On by default (as in the Python version); testConfig() turns it off for every other test.
  const bot = await startBot(t, { env: { HOME: userHome, FAKE_CLI_RECORD_DIR: records, ...noLoginEnv }, config: { provider_fallback: true } })

  // Codex's strongest model as this process knows the installed codex's list (gpt-5.5 in the built-in one).
  const model = equivalentModel('opus', 'codex')
  await bot.say('first question [[reply:answered by codex]]')
  await bot.waitMessage((m) => m.text === 'answered by codex', 'the answer')
  const notice = bot.texts().find((text) => text.includes('not logged in'))
  assert.equal(notice, `⚠️ Claude Code is not logged in here (run claude on this machine to log in), so Codex · ${model} answers instead of opus. ` +
    'Your default is unchanged; /model switches it, and "provider_fallback": false in config.json turns this off.')
  const first = await runOf(records, 'first question')
  assert.equal(first.argv[0], 'exec', `codex ran: ${first.argv.join(' ')}`)
  assert.equal(first.argv[first.argv.indexOf('--model') + 1], model)

  await bot.say('second question [[reply:codex again]]')
  await bot.waitMessage((m) => m.text === 'codex again', 'the second answer')
  assert.equal(bot.texts().filter((text) => text.includes('not logged in')).length, 1, 'told once')
  assert.equal((await runOf(records, 'second question')).argv[0], 'exec')

  await bot.say('/status')
  const status = await bot.waitMessage((m) => m.text.includes('Fallback:'), 'the status')
  assert.ok(status.text.includes(`Claude Code · opus\nFallback: Claude Code is not logged in, so messages run with Codex · ${model}.`), status.text)

  const config = JSON.parse(await readFile(bot.paths.config, 'utf8')) as { provider: string, model: string }
  assert.deepEqual([config.provider, config.model], ['claude', 'opus'], 'the default is unchanged')
  const logged = bot.logs.map((l) => JSON.parse(l) as { level: number, msg: string }).filter((l) => l.msg.includes('(provider_fallback)'))
  assert.deepEqual(logged.map((l) => [l.level, l.msg]), [[40, `claude is not logged in: running codex ${model} instead (provider_fallback)`], [30, `claude is not logged in: running codex ${model} instead (provider_fallback)`]])
  const runs = await bot.app.inject({ method: 'GET', url: '/api/runs?kind=chat', headers: { authorization: 'Bearer test-admin-token-0123456789' } })
  const recorded = (runs.json() as { runs: Array<{ provider: string, model: string }> }).runs.map((r) => `${r.provider}/${r.model}`)
  assert.ok(recorded.length >= 2 && recorded.every((r) => r === `codex/${model}`), `the run history has what really ran: ${recorded.join(', ')}`)
})

test('provider_fallback false: the configured provider runs even when it is not logged in, and nothing is said about a fallback', { timeout: 120_000 }, async (t) => {
  const { userHome, records } = await codexOnlyMachine(t)
  const bot = await startBot(t, { env: { HOME: userHome, FAKE_CLI_RECORD_DIR: records, ...noLoginEnv }, config: { provider_fallback: false } })
  await bot.say('a question [[reply:claude tried]]')
  await bot.waitMessage((m) => m.text === 'claude tried', 'the answer')
  assert.ok((await runOf(records, 'a question')).argv.includes('-p'), 'claude ran')
  assert.equal(bot.texts().filter((text) => text.includes('not logged in')).length, 0)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helper.ts'
import { startBot, until, USERS } from './helpers.ts'
import { readUpdateState } from '../../src/ops/update-source.ts'

type Keyboard = { inline_keyboard: Array<Array<{ text: string, callback_data: string }>> }

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, {
  cwd,
  encoding: 'utf8',
  env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test', GIT_CONFIG_GLOBAL: '/dev/null' }
}).trim()

const pkg = (version: string): string => JSON.stringify({ name: 'ductor', version, private: true, scripts: { build: 'node -e "require(\'fs\').writeFileSync(\'built.txt\', \'yes\')"' } }, null, 2)
const lock = (version: string): string => JSON.stringify({ name: 'ductor', version, lockfileVersion: 3, requires: true, packages: { '': { name: 'ductor', version } } }, null, 2)

/**
 * A copy of ductor installed as a git checkout whose upstream (a local bare repository: no network)
 * is two commits ahead, the second raising the version to 0.2.0.
 */
async function checkoutBehind (t: Parameters<typeof tempDir>[0]): Promise<{ checkout: string, upstream: string, ahead: string }> {
  const dir = await tempDir(t)
  const upstream = join(dir, 'upstream.git')
  git(dir, 'init', '--quiet', '--bare', '-b', 'main', upstream)
  const work = join(dir, 'work')
  git(dir, 'clone', '--quiet', upstream, work)
  git(work, 'checkout', '--quiet', '-b', 'main')
  await writeFile(join(work, 'package.json'), pkg('0.1.0'))
  await writeFile(join(work, 'package-lock.json'), lock('0.1.0'))
  git(work, 'add', '-A')
  git(work, 'commit', '--quiet', '-m', 'First release')
  git(work, 'push', '--quiet', '-u', 'origin', 'main')
  const checkout = join(dir, 'ductor')
  git(dir, 'clone', '--quiet', upstream, checkout)
  await writeFile(join(work, 'NOTES.md'), 'more\n')
  git(work, 'add', '-A')
  git(work, 'commit', '--quiet', '-m', 'Cron jobs say when they ran late')
  await writeFile(join(work, 'package.json'), pkg('0.2.0'))
  await writeFile(join(work, 'package-lock.json'), lock('0.2.0'))
  git(work, 'add', '-A')
  git(work, 'commit', '--quiet', '-m', 'Release 0.2.0')
  git(work, 'push', '--quiet')
  return { checkout, upstream, ahead: git(work, 'rev-parse', 'HEAD') }
}

test('a checkout behind its upstream: the notice comes once to every allowed user; Changelog lists the commits, Upgrade pulls, builds and restarts', { timeout: 180_000 }, async (t) => {
  const { checkout, ahead } = await checkoutBehind(t)
  const bot = await startBot(t, { updates: { root: checkout, firstDelayMs: 0 } })
  const notice = await bot.waitMessage((m) => m.text.startsWith('⬆️ Update available'), 'the update notice')
  assert.equal(notice.text, '⬆️ Update available: ductor 0.2.0 (2 new commits) (this is 0.0.0-test).')
  const buttons = (notice.reply_markup as Keyboard).inline_keyboard.flat()
  assert.deepEqual(buttons.map((b) => b.text), ['📝 Changelog', '⬆️ Upgrade', '⏰ Later'])
  for (const user of USERS) await bot.waitMessage((m) => m.text.startsWith('⬆️ Update available'), `the notice for user ${user}`, user)
  assert.equal(bot.app.stores.runs.list().length, 0, 'the notice starts no run')

  await bot.press(notice, 'upd:log')
  const log = await bot.waitMessage((m) => m.text.startsWith('What is new'), 'the changelog')
  assert.match(log.text, /• Release 0\.2\.0\n• Cron jobs say when they ran late/)

  await bot.press(notice, 'upd:go')
  await bot.waitMessage((m) => m.message_id === notice.message_id && m.text.startsWith('Updated the checkout'), 'the upgrade done')
  await until(() => bot.restarts === 1, 'the restart request')
  assert.equal(git(checkout, 'rev-parse', 'HEAD'), ahead, 'the checkout was pulled')
  assert.equal(await readFile(join(checkout, 'built.txt'), 'utf8'), 'yes', 'and built')
  const marker = JSON.parse(await readFile(join(bot.paths.state, 'upgrade.json'), 'utf8')) as Record<string, unknown>
  assert.deepEqual([marker['from'], marker['to'], marker['chat_id']], ['0.0.0-test', '0.2.0', notice.chat_id])
})

test('Later drops the buttons; an update already announced is not announced again', { timeout: 180_000 }, async (t) => {
  const { checkout, ahead } = await checkoutBehind(t)
  const bot = await startBot(t, { updates: { root: checkout, firstDelayMs: 0 } })
  const notice = await bot.waitMessage((m) => m.text.startsWith('⬆️ Update available'), 'the update notice')
  await bot.press(notice, 'upd:later')
  const later = await bot.waitMessage((m) => m.message_id === notice.message_id && /not announced again/.test(m.text), 'the notice after Later')
  assert.equal(later.reply_markup, undefined)
  assert.equal(bot.restarts, 0)
  assert.notEqual(git(checkout, 'rev-parse', 'HEAD'), ahead, 'Later changes nothing')

  // The next life of the service (same home) checks again and stays quiet about the same update.
  const again = await startBot(t, {
    updates: { root: checkout, firstDelayMs: 0 },
    prepare: async (paths) => { await writeFile(join(paths.state, 'update-check.json'), await readFile(join(bot.paths.state, 'update-check.json'))) }
  })
  await waitChecked(again.paths.state, (await readUpdateState(bot.paths.state)).checked_at)
  assert.equal(again.texts().filter((m) => m.startsWith('⬆️')).length, 0)
})

/** Waits until the periodic check has run again (its `checked_at` moved). */
async function waitChecked (stateDir: string, before: string | null): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const now = (await readUpdateState(stateDir)).checked_at
    if (now !== null && now !== before) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the update check did not run')
}

test('offline or without an upstream the check is quiet: no notice, no error in the chat', { timeout: 180_000 }, async (t) => {
  const { checkout, upstream } = await checkoutBehind(t)
  // The upstream moved away: `git fetch` fails as it does on a machine without network.
  git(checkout, 'remote', 'set-url', 'origin', `${upstream}-gone`)
  const offline = await startBot(t, { updates: { root: checkout, firstDelayMs: 0 } })
  await waitChecked(offline.paths.state, null)
  const noUpstream = await tempDir(t)
  git(noUpstream, 'init', '--quiet')
  const alone = await startBot(t, { updates: { root: noUpstream, firstDelayMs: 0 } })
  await waitChecked(alone.paths.state, null)
  for (const bot of [offline, alone]) {
    assert.deepEqual(bot.texts(), [], 'nothing was said')
    assert.equal(bot.logs.filter((l) => /"level":(40|50)/.test(l)).length, 0, bot.logs.filter((l) => /"level":(40|50)/.test(l)).join('\n'))
  }
})

// A newcomer's first commands (issue 16, items 4 and 5), through the real `ductor` entry point.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT, spawnService, tempDir, waitFor, type CliRun, ductor, build } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

const README_TOKEN = /--token (\S+)/.exec(await readFile(join(ROOT, 'README.md'), 'utf8'))?.[1] ?? 'missing'

/** `ductor <args>` with `input` piped into its stdin. */
async function withInput (args: string[], env: NodeJS.ProcessEnv, input: string): Promise<CliRun> {
  return await ductor(args, env, { stdin: input })
}

const fileOf = async (home: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as Record<string, unknown>

test('an unknown command is named as such, with the nearest command; nothing is served', async (t) => {
  const home = await tempDir(t)
  const foo = await ductor(['foo'], { DUCTOR_HOME: home })
  assert.equal(foo.code, 1)
  assert.match(foo.stderr, /^ductor: unknown command 'foo'; the commands are: serve, init, status/)
  assert.doesNotMatch(foo.stderr, /too many arguments/)
  const typo = await ductor(['stauts'], { DUCTOR_HOME: home })
  assert.equal(typo.code, 1)
  assert.match(typo.stderr, /unknown command 'stauts' \(did you mean 'ductor status'\?\)/)
  const doc = await ductor(['docter', '--json'], { DUCTOR_HOME: home })
  assert.match(doc.stderr, /did you mean 'ductor doctor'/)
  // `ductor help <word>` says the same as `ductor <word>` (it printed the general help, no word of why).
  for (const word of ['nope', 'stauts']) {
    const [plain, help] = [await ductor([word], { DUCTOR_HOME: home }), await ductor(['help', word], { DUCTOR_HOME: home })]
    assert.equal(help.code, plain.code, word)
    assert.equal(help.stderr, plain.stderr, word)
    assert.equal(help.stdout, '', `${word}: no help printed`)
  }
  const nested = await ductor(['cron', 'help', 'lsit'], { DUCTOR_HOME: home })
  assert.equal(nested.code, 1)
  assert.equal(nested.stderr, "ductor: unknown command 'lsit' of 'ductor cron' (did you mean 'ductor cron list'?); the commands are: list, add, show, edit, remove, run (ductor cron --help)\n")
  assert.equal((await ductor(['help', 'cron', 'nope'], { DUCTOR_HOME: home })).stderr, nested.stderr.replace("'lsit'", "'nope'").replace(" (did you mean 'ductor cron list'?)", ''))
  // A known one shows that command's own help, however deep.
  const known = await ductor(['help', 'cron', 'list'], { DUCTOR_HOME: home })
  assert.equal(known.code, 0, known.stderr)
  assert.match(known.stdout, /^Usage: ductor cron list /)
})

test('the README\'s example token passes init\'s own check; piped answers are read in the wizard\'s order', async (t) => {
  const home = await tempDir(t)
  assert.match(README_TOKEN, /^\d+:/)
  const run = await withInput(['init'], { DUCTOR_HOME: home }, `${README_TOKEN}\n4242\ncodex\n\nEurope/Berlin\n`)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /Wrote .*config\.json: set telegram_token, allowed_user_ids, provider, model, user_timezone\./)
  const file = await fileOf(home)
  assert.equal(file['telegram_token'], README_TOKEN)
  assert.deepEqual(file['allowed_user_ids'], [4242])
  assert.equal(file['provider'], 'codex')
  assert.equal(file['model'], 'gpt-5.5', 'a new provider without a model gets its default model')
  assert.equal(file['user_timezone'], 'Europe/Berlin')

  const again = await withInput(['init'], { DUCTOR_HOME: home }, '\n\n\n\n\n')
  assert.equal(again.code, 0)
  assert.match(again.stdout, /Nothing changed in /)
})

test('`ductor init` with nothing piped and no flags refuses instead of claiming it wrote something', async (t) => {
  const home = await tempDir(t)
  const run = await ductor(['init'], { DUCTOR_HOME: home })
  assert.equal(run.code, 1)
  assert.match(run.stderr, /no answers: stdin is not a terminal and nothing was piped in/)
  assert.doesNotMatch(run.stdout, /Wrote/)
})

test('init validates the model against the provider; a provider switch brings its default model', async (t) => {
  const home = await tempDir(t)
  const banana = await ductor(['init', '--non-interactive', '--model', 'banana'], { DUCTOR_HOME: home })
  assert.equal(banana.code, 1)
  assert.match(banana.stderr, /--model: "banana" is not a model ductor knows; Claude: opus, sonnet, haiku/)
  const mixed = await ductor(['init', '--non-interactive', '--provider', 'codex', '--model', 'opus'], { DUCTOR_HOME: home })
  assert.equal(mixed.code, 1)
  assert.match(mixed.stderr, /"opus" is a Claude model, but the provider is codex; use one of gpt-5\.5/)
  assert.equal((await fileOf(home))['model'], 'opus', 'nothing changed')
  const sw = await ductor(['init', '--non-interactive', '--provider', 'codex'], { DUCTOR_HOME: home })
  assert.equal(sw.code, 0, sw.stderr)
  assert.deepEqual([(await fileOf(home))['provider'], (await fileOf(home))['model']], ['codex', 'gpt-5.5'])
  const back = await ductor(['init', '--non-interactive', '--provider', 'claude', '--model', 'sonnet'], { DUCTOR_HOME: home })
  assert.equal(back.code, 0, back.stderr)
  assert.deepEqual([(await fileOf(home))['provider'], (await fileOf(home))['model']], ['claude', 'sonnet'])
})

test('first start prints one block (URL, home, config, admin token location, Telegram\'s next step, ductor chat) and only once', async (t) => {
  const home = await tempDir(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0' }
  for (const round of [1, 2]) {
    const served = await spawnService(t, env)
    const info = await served.up()
    // A stop signal that arrives while it starts is acted on once the start (the block included) is done.
    assert.equal(await served.stop(), 0)
    const stdout = served.stdout()
    if (round === 1) {
      assert.match(stdout, new RegExp(`URL +${info.url.replace(/[.]/g, '\\.')}`))
      assert.ok(stdout.includes(`home         ${home}`))
      assert.ok(stdout.includes(`config       ${join(home, 'config', 'config.json')}`))
      assert.match(stdout, /admin token +"admin\.token" in /)
      assert.match(stdout, /Telegram +off: no bot token\. Next: run `ductor init`/)
      assert.match(stdout, /ductor chat "hello"/)
      const token = (await fileOf(home))['admin'] as { token: string }
      assert.ok(!stdout.includes(token.token), 'the admin token itself is not printed')
    } else {
      assert.doesNotMatch(stdout, /First start/, 'the block is shown once per home')
    }
  }
})

test('a bare `ductor` in a terminal on a home without a bot token starts the wizard, then serves', async (t) => {
  const home = await tempDir(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_TELEGRAM_API_ROOT: 'http://127.0.0.1:9' }
  // A pseudo-terminal: stdin and stdout are TTYs, as in a real shell.
  const served = await spawnService(t, env, { args: [], terminal: true })
  const answer = async (prompt: RegExp, text: string): Promise<void> => {
    await waitFor(() => prompt.test(served.output()) ? true : undefined, 60_000, `the prompt ${String(prompt)}`)
    served.type(text + '\r')
  }
  await answer(/Telegram bot token/, README_TOKEN)
  await answer(/Your Telegram user id/, '4242')
  await answer(/Default CLI/, '')
  await answer(/Default model/, '')
  await answer(/Your time zone/, '')
  const info = await served.up(120_000)
  assert.equal((await fetch(`${info.url}/health`)).status, 200)
  const file = await fileOf(home)
  assert.equal(file['telegram_token'], README_TOKEN)
  assert.deepEqual(file['allowed_user_ids'], [4242])
  assert.match(served.output(), /ductor has no Telegram bot token yet/)
  served.hangup()
  assert.equal(await served.exited, 0, 'a closed terminal stops it gracefully')
})

test('init tells that a running service keeps its old settings until a restart', async (t) => {
  const service = await build(t, { serve: true })
  const run = await ductor(['init', '--non-interactive', '--user-id', '777'], service.env)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /ductor is running \(pid \d+\) with the old settings; they apply after a restart: stop it/)
  await service.stop()
})

test('DUCTOR_PROVIDER=codex alone runs Codex with Codex\'s default model, never the file\'s "opus"; PATCH provider alone does the same', async (t) => {
  const record = join(await tempDir(t), 'codex-run.json')
  const service = await build(t, { serve: true, env: { DUCTOR_PROVIDER: 'codex', FAKE_CLI_RECORD: record }, config: { provider: 'claude', model: 'opus' } })
  const status = JSON.parse((await ductor(['chat', '--json', 'hello'], service.env)).stdout) as Record<string, unknown>
  assert.equal(status['status'], 'success', JSON.stringify(status))
  const argv = (JSON.parse(await readFile(record, 'utf8')) as { argv: string[] }).argv
  assert.ok(argv.join(' ').includes('exec'), 'codex ran')
  assert.equal(argv[argv.indexOf('--model') + 1], 'gpt-5.5')
  assert.ok(!argv.includes('opus'))
  await service.stop()

  // The same home without the variable, switched to Codex through the API: the file gets Codex's model.
  const api = await build(t, { serve: true, config: { provider: 'claude', model: 'opus' } })
  const config = JSON.parse(await readFile(join(api.home, 'config', 'config.json'), 'utf8')) as { admin: { token: string } }
  const url = (await readServiceInfo(join(api.home, 'state')))?.admin_url ?? ''
  const patch = await fetch(`${url}/api/config`, { method: 'PATCH', headers: { authorization: `Bearer ${config.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'codex' }) })
  assert.equal(patch.status, 200)
  const saved = JSON.parse(await readFile(join(api.home, 'config', 'config.json'), 'utf8')) as { provider: string, model: string }
  assert.deepEqual([saved.provider, saved.model], ['codex', 'gpt-5.5'])
  const mixed = await fetch(`${url}/api/config`, { method: 'PATCH', headers: { authorization: `Bearer ${config.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'opus' }) })
  assert.equal(mixed.status, 400)
  assert.match(((await mixed.json()) as { message: string }).message, /"opus" is a Claude model, but the provider is codex/)
  await api.stop()
})

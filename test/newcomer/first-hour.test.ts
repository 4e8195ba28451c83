// A newcomer's first hour, scripted (issue 16): a fresh HOME, the README's own commands, a typo in
// the config, and a chat without Telegram. Through the real `ductor` command and service only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ROOT, fakeClis, runCli, spawnService, tempDir, waitFor } from '../helper.ts'

const readme = await readFile(join(ROOT, 'README.md'), 'utf8')

/** A port nothing listens on: Telegram is out of reach, as on a machine without internet. */
async function refusedPort (): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
}

test('newcomer: README init → serve (first-start block) → health → status → chat without Telegram → a typo in config.json loses nothing', { timeout: 900_000 }, async (t) => {
  const userHome = await tempDir(t, 'ductor-newcomer-')
  const clis = await fakeClis(t)
  // Only HOME: the README's default home ~/.ductor. No internet: the Bot API root refuses.
  const env: NodeJS.ProcessEnv = {
    HOME: userHome,
    DUCTOR_HOME: '',
    DUCTOR_PORT: '0',
    DUCTOR_TELEGRAM_API_ROOT: `http://127.0.0.1:${await refusedPort()}`,
    FAKE_CLI_REPLY: 'Hello! I am your assistant.',
    ...clis.env
  }
  const ductor = async (args: string[]) => await runCli(args, env, { timeoutMs: 180_000 })
  const home = join(userHome, '.ductor')
  const configFile = join(home, 'config', 'config.json')

  // 1. The README's own init line, word for word.
  const initLine = /^ductor (init --non-interactive .+)$/m.exec(readme)?.[1]
  assert.ok(initLine !== undefined, 'the README shows a non-interactive init')
  const init = await ductor(initLine.split(' '))
  assert.equal(init.code, 0, init.stderr)
  assert.match(init.stdout, /Wrote .*\.ductor\/config\/config\.json: set telegram_token, allowed_user_ids, user_timezone\./)

  // 2. `ductor serve`: the first start says where everything is and what Telegram does.
  const served = await spawnService(t, env)
  const info = await served.up(180_000)
  // 3. The README: `curl …/health` answers {"status":"ok"}.
  assert.deepEqual(await (await fetch(`${info.url}/health`)).json(), { status: 'ok' })

  // 4. `ductor status`: running, and Telegram's true state (down: it cannot reach the Bot API).
  const status = await waitFor(async () => {
    const s = await ductor(['status'])
    return /telegram +down: /.test(s.stdout) ? s : undefined
  }, 120_000, 'status to show Telegram down')
  assert.match(status.stdout, /^ductor is running \(pid \d+\)/)
  assert.match(status.stdout, /telegram +down: getMe failed: cannot reach the Bot API \(ECONNREFUSED\)/)

  // 5. Talk to the assistant without Telegram, as the first-start block suggests.
  const chat = await ductor(['chat', 'hello'])
  assert.equal(chat.code, 0, chat.stderr)
  assert.equal(chat.stdout, 'Hello! I am your assistant.\n')
  const help = await ductor(['chat', '/help'])
  assert.match(help.stdout, /\/new — /)
  const typoCommand = await ductor(['stauts'])
  assert.match(typoCommand.stderr, /unknown command 'stauts' \(did you mean 'ductor status'\?\)/)

  assert.equal(await served.stop(), 0, served.stderr())
  assert.match(served.stdout(), /First start on this home:/)
  assert.match(served.stdout(), /Telegram +connecting \(polling\)\. Next: write to your bot in Telegram/)
  assert.match(served.stdout(), /ductor chat "hello"/)

  // 6. A typo in config.json (a stray comma): the service refuses with the line, the file is kept.
  const good = await readFile(configFile, 'utf8')
  const broken = good.replace('"allowed_user_ids"', '"allowed_user_ids",')
  await writeFile(configFile, broken)
  const refused = await ductor(['serve', '--no-supervisor'])
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /config\.json is not valid JSON: line \d+, column \d+/)
  assert.equal(await readFile(configFile, 'utf8'), broken, 'the file is left as the user wrote it: no token lost')
  assert.equal((JSON.parse(good) as { telegram_token: string }).telegram_token, /--token (\S+)/.exec(initLine)?.[1])
})

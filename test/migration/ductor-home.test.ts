import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { textMessage } from '../fakes/bot-api/updates.ts'
import { build, ductor, ROOT, waitFor } from '../helper.ts'
import { checkPythonHome } from './python-loader.ts'

/**
 * `ductor_home` (issue 17, ADR 0028). The Python ductor read config.json from ~/.ductor and kept
 * sessions, jobs, hooks and workspace in the folder its `ductor_home` names. A user with such a
 * split home starts this edition without DUCTOR_HOME: it finds their sessions and jobs there, and
 * the Python version can load both folders afterwards. A `ductor_home` that is not there stops the
 * start with a clear message, and DUCTOR_HOME (a copy) always wins.
 */

const FIXTURE = join(ROOT, 'test', 'fixtures', 'seed-home', 'ductor-home')
const USER = 111111
const CLAUDE_SESSION = '11111111-2222-3333-4444-555555555555'

/** A user's home folder with ~/.ductor holding only config.json, whose ductor_home is `ductorHome`; the Python data in ~/ductor-data. */
async function splitHome (t: test.TestContext, ductorHome: string): Promise<{ userHome: string, configHome: string, data: string, token: string }> {
  const userHome = await mkdtemp(join(tmpdir(), 'ductor-split-'))
  t.after(async () => { await rm(userHome, { recursive: true, force: true }) })
  const data = join(userHome, 'ductor-data')
  await cp(FIXTURE, data, { recursive: true })
  const configHome = join(userHome, '.ductor')
  await mkdir(join(configHome, 'config'), { recursive: true })
  const config = JSON.parse(await readFile(join(data, 'config', 'config.json'), 'utf8')) as Record<string, unknown>
  await rm(join(data, 'config', 'config.json'))
  await writeFile(join(configHome, 'config', 'config.json'), JSON.stringify({ ...config, ductor_home: ductorHome }, null, 2) + '\n')
  return { userHome, configHome, data, token: String(config['telegram_token']) }
}

test('a config.json whose ductor_home names another folder: the service finds the sessions, jobs and hooks there, as the Python ductor did', { timeout: 120_000 }, async (t) => {
  const { userHome, configHome, data, token } = await splitHome(t, '~/ductor-data')
  const fake = createFakeBotApi({ token, rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(() => fake.close())
  const records = join(userHome, 'records')
  await mkdir(records)
  const env = { HOME: userHome, DUCTOR_HOME: '', DUCTOR_TELEGRAM_API_ROOT: fake.apiRoot, FAKE_CLI_RECORD_DIR: records }
  const service = await build(t, { serve: true, home: configHome, env })

  const note = service.logs.map((l) => JSON.parse(l) as { key?: string, msg: string }).find((l) => l.key === 'ductor_home')
  assert.match(note?.msg ?? '', new RegExp(`^following ductor_home "~/ductor-data" \\(${data}\\) as the Python ductor did`))

  // The private chat resumes its Claude session from ~/ductor-data/sessions.json, working in its workspace.
  fake.pushUpdate({ update_id: 1, message: textMessage('hello from the split home [[reply:found you]]', { chatId: USER, from: USER, messageId: 1 }) })
  await waitFor(() => fake.messages(USER).some((m) => m.text === 'found you') ? true : undefined, 60_000, 'the answer')
  const run = await waitFor(async () => {
    for (const name of await readdir(records)) {
      const r = JSON.parse(await readFile(join(records, name), 'utf8').catch(() => '{}')) as { argv?: string[], cwd?: string }
      if (r.argv?.some((a) => a.includes('split home')) === true) return r as { argv: string[], cwd: string }
    }
    return undefined
  }, 30_000, 'the CLI run')
  assert.equal(run.argv[run.argv.indexOf('--resume') + 1], CLAUDE_SESSION)
  assert.equal(run.cwd, join(data, 'workspace'))

  // The jobs and hooks are those of ~/ductor-data; the `ductor` commands find the same service.
  const cron = await ductor(['cron', 'list', '--json'], { ...service.env, DUCTOR_HOME: '' })
  assert.equal(cron.code, 0, cron.stderr)
  assert.match(cron.stdout, /hn-digest/)
  assert.match(cron.stdout, /nightly-report/)
  const status = await ductor(['status', '--json'], { ...service.env, DUCTOR_HOME: '' })
  const facts = JSON.parse(status.stdout) as { running: boolean, home: string, paths: { config: string, sessions: string } }
  assert.deepEqual([facts.running, facts.home, facts.paths.config, facts.paths.sessions], [true, data, join(configHome, 'config', 'config.json'), join(data, 'sessions.json')])

  assert.equal(await service.stop(), 0)
  // ~/.ductor still holds only the config; the data folder was used, and both load in the Python version.
  assert.deepEqual(await readdir(configHome), ['config'])
  assert.deepEqual(await readdir(join(configHome, 'config')), ['config.json'])
  const sessions = JSON.parse(await readFile(join(data, 'sessions.json'), 'utf8')) as Record<string, { provider_sessions: { claude: { message_count: number } } }>
  assert.equal(sessions[String(USER)]?.provider_sessions.claude.message_count, 2)
  assert.deepEqual(await checkPythonHome(data, configHome), [])
})

test('a ductor_home that does not exist stops the start with a clear message; nothing is created or changed', async (t) => {
  const { userHome, configHome } = await splitHome(t, '~/moved-away')
  const before = await readFile(join(configHome, 'config', 'config.json'), 'utf8')
  await assert.rejects(build(t, { serve: true, home: configHome, env: { HOME: userHome, DUCTOR_HOME: '' } }), (err: Error) => {
    assert.equal(err.name, 'ConfigError')
    assert.match(err.message, new RegExp(`names ductor_home "~/moved-away" \\(${join(userHome, 'moved-away')}\\) as the folder of sessions, jobs and workspace, but it does not exist\\. Nothing was created or changed\\.`))
    assert.match(err.message, /remove the key to keep everything in /)
    return true
  })
  assert.deepEqual((await readdir(userHome)).sort(), ['.ductor', 'ductor-data'])
  assert.deepEqual(await readdir(configHome), ['config'])
  assert.equal(await readFile(join(configHome, 'config', 'config.json'), 'utf8'), before)
  const doctor = await ductor(['doctor', '--json'], { HOME: userHome, DUCTOR_HOME: '' })
  const check = (JSON.parse(doctor.stdout) as Array<{ name: string, status: string, detail: string }>).find((c) => c.name === 'ductor_home')
  assert.equal(check?.status, 'fail')
})

test('DUCTOR_HOME set: the environment wins, ductor_home\'s folder is left alone and the log says how to use it', async (t) => {
  const { userHome, configHome, data } = await splitHome(t, '~/ductor-data')
  const sessionsBefore = await readFile(join(data, 'sessions.json'), 'utf8')
  const service = await build(t, { serve: true, home: configHome, env: { HOME: userHome } })
  const note = service.logs.map((l) => JSON.parse(l) as { key?: string, level: number, msg: string }).find((l) => l.key === 'ductor_home')
  assert.equal(note?.level, 40, 'a warning')
  assert.match(note?.msg ?? '', /DUCTOR_HOME is set, so ductor uses .* for everything and leaves .*ductor-data alone/)
  assert.ok(note?.msg.endsWith(`DUCTOR_HOME=${data}`))
  assert.equal(await service.stop(), 0)
  assert.equal(await readFile(join(data, 'sessions.json'), 'utf8'), sessionsBefore)
  assert.ok((await readdir(configHome)).includes('workspace'), 'the home of DUCTOR_HOME is used')
})

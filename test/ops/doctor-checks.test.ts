import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { checkConfig, checkExposure, checkHome, checkNode, checkPort, checkService } from '../../src/ops/doctor-checks.ts'
import { checkCliInstalled, checkCliLogin } from '../../src/ops/doctor-cli-checks.ts'
import { readConfigReadOnly } from '../../src/ops/config-read.ts'
import { completeConfig } from '../../src/config.ts'
import { writeServiceInfo } from '../../src/home/service-info.ts'
import { createCommandRunner } from '../../src/ops/runner.ts'
import { tempDir } from '../helper.ts'
import { fakeExecutable, freePort, localServer } from './helpers.ts'

test('Node.js: 20.19 and newer pass, older fail with the fix', () => {
  assert.equal(checkNode('20.19.0').status, 'ok')
  assert.equal(checkNode('v22.1.0').status, 'ok')
  assert.equal(checkNode('24.0.0').detail, 'v24.0.0')
  const old = checkNode('20.18.3')
  assert.equal(old.status, 'fail')
  assert.match(old.detail, /v20\.18\.3 is too old; ductor needs 20\.19\.0 or newer/)
  assert.ok(old.fix !== undefined)
  assert.equal(checkNode('18.20.0').status, 'fail')
})

test('config: missing is a warning, invalid JSON, a bad value or a bad environment value fail and name it; nothing is written', async (t) => {
  const home = await tempDir(t)
  const missing = await readConfigReadOnly(home, {})
  assert.equal(checkConfig(missing).status, 'warn')
  await assert.rejects(access(join(home, 'config')), 'doctor creates nothing')

  await mkdir(join(home, 'config'))
  const file = join(home, 'config', 'config.json')
  await writeFile(file, '{ not json')
  const broken = checkConfig(await readConfigReadOnly(home, {}))
  assert.equal(broken.status, 'fail')
  assert.match(broken.detail, /is not valid JSON/)

  await writeFile(file, JSON.stringify({ cli_timeout: 'soon' }))
  const bad = checkConfig(await readConfigReadOnly(home, {}))
  assert.equal(bad.status, 'fail')
  assert.match(bad.detail, /\/cli_timeout: "soon" is not allowed; expected a number from 1 to 86400/)

  await writeFile(file, JSON.stringify({}))
  const env = checkConfig(await readConfigReadOnly(home, { DUCTOR_PORT: 'eighty' }))
  assert.equal(env.status, 'fail')
  assert.match(env.detail, /DUCTOR_PORT: "eighty" is not a port/)
  const good = await readConfigReadOnly(home, { DUCTOR_PORT: '9000' })
  assert.equal(checkConfig(good).status, 'ok')
  assert.equal(good.status === 'ok' ? good.config.server.port : null, 9000, 'the environment applies as in the service')
  assert.equal(await readFile(file, 'utf8'), '{}', 'the file is left as it was')
})

test('home: missing warns, other users\' write access or a readable config.json warns, a private home passes', async (t) => {
  const dir = await tempDir(t)
  const uid = process.getuid?.() ?? null
  assert.equal((await checkHome(join(dir, 'none'), uid)).status, 'warn')
  const home = join(dir, 'home')
  await mkdir(join(home, 'config'), { recursive: true })
  await chmod(home, 0o777)
  const open = await checkHome(home, uid)
  assert.equal(open.status, 'warn')
  assert.match(open.detail, /writable by other users \(mode 777\)/)
  assert.equal(open.fix, `chmod 700 ${home}`)
  await chmod(home, 0o700)
  await writeFile(join(home, 'config', 'config.json'), '{}', { mode: 0o644 })
  await chmod(join(home, 'config', 'config.json'), 0o644)
  const readable = await checkHome(home, uid)
  assert.equal(readable.status, 'warn')
  assert.match(readable.detail, /other users can read it \(mode 644\)/)
  await chmod(join(home, 'config', 'config.json'), 0o600)
  assert.deepEqual(await checkHome(home, uid), { name: 'home', status: 'ok', detail: `${home} (mode 700)` })
  await writeFile(join(dir, 'file'), '')
  assert.equal((await checkHome(join(dir, 'file'), uid)).status, 'fail')
})

test('port: free passes, taken fails with the fix, a running service is asked for /health', async (t) => {
  const home = await tempDir(t)
  const state = join(home, 'state')
  const pidFile = join(home, 'ductor.pid')
  const port = await freePort()
  const config = completeConfig({ server: { host: '127.0.0.1', port } })
  assert.deepEqual(await checkPort(config, state, pidFile, fetch, 1000), { name: 'port', status: 'ok', detail: `127.0.0.1:${port} is free` })

  const other = createServer()
  await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve))
  t.after(() => other.close())
  const taken = await checkPort(config, state, pidFile, fetch, 1000)
  assert.equal(taken.status, 'fail')
  assert.match(taken.detail, new RegExp(`127\\.0\\.0\\.1:${port} is already in use by another program`))
  assert.match(taken.fix ?? '', /DUCTOR_PORT/)

  const healthy = await localServer(t, (req, res) => { res.end(req.url === '/health' ? '{"status":"ok"}' : '') })
  await writeServiceInfo(state, { pid: process.pid, url: healthy.url, version: '0.0.0', started_at: new Date().toISOString() })
  const running = await checkPort(config, state, pidFile, fetch, 1000)
  assert.equal(running.status, 'ok')
  assert.match(running.detail, new RegExp(`ductor is running \\(pid ${process.pid}\\) at ${healthy.url} and /health answers`))
  assert.deepEqual(healthy.paths, ['/health'])

  await writeServiceInfo(state, { pid: process.pid, url: `http://127.0.0.1:${await freePort()}`, version: '0.0.0', started_at: new Date().toISOString() })
  const dead = await checkPort(config, state, pidFile, fetch, 1000)
  assert.equal(dead.status, 'fail')
  assert.match(dead.detail, /\/health does not answer/)
})

test('exposure: loopback passes; 0.0.0.0 warns outside a container; allow_proxied, trust_proxy true and a missing trust_proxy warn', () => {
  assert.equal(checkExposure(completeConfig({}), false).status, 'ok')
  assert.match(checkExposure(completeConfig({}), false).detail, /the admin API on 127\.0\.0\.1:8743/)
  const wideAdmin = checkExposure(completeConfig({ admin: { host: '0.0.0.0' } }), false)
  assert.equal(wideAdmin.status, 'warn')
  assert.match(wideAdmin.detail, /admin API \(\/api\) is reachable from the network/)
  const wide = checkExposure(completeConfig({ server: { host: '0.0.0.0' } }), false)
  assert.equal(wide.status, 'warn')
  assert.match(wide.detail, /the admin API is not: it listens on 127\.0\.0\.1/)
  assert.equal(checkExposure(completeConfig({ server: { host: '0.0.0.0' }, admin: { host: '0.0.0.0' } }), true).status, 'ok')
  assert.equal(checkExposure(completeConfig({ admin: { allow_proxied: true } }), false).status, 'warn')
  assert.match(checkExposure(completeConfig({ server: { public_url: 'https://bot.example.com' } }), false).fix ?? '', /trust_proxy/)
  const legacy = checkExposure(completeConfig({ server: { public_url: 'https://bot.example.com', trust_proxy: true } }), false)
  assert.equal(legacy.status, 'warn', 'trust_proxy: true loads, but doctor warns')
  assert.match(legacy.detail, /read as "loopback"/)
  assert.equal(checkExposure(completeConfig({ server: { public_url: 'https://bot.example.com', trust_proxy: ['127.0.0.1'] } }), false).status, 'ok')
  assert.equal(checkExposure(completeConfig({ server: { public_url: 'https://bot.example.com', trust_proxy: 1 } }), false).status, 'ok')
})

test('CLIs: found and running passes with the version; the default provider missing fails; the other one is optional', async (t) => {
  const dir = await tempDir(t)
  const bin = join(dir, 'bin')
  await fakeExecutable(bin, 'claude', 'echo "2.1.197 (Claude Code)"')
  const broken = await fakeExecutable(join(dir, 'other'), 'codex', 'echo "error while loading shared libraries" >&2; exit 127')
  const ctx = { env: { PATH: bin }, runner: createCommandRunner({ env: { PATH: bin } }) }
  const claude = await checkCliInstalled('claude', completeConfig({}), ctx)
  assert.deepEqual(claude.result, { name: 'claude CLI', status: 'ok', detail: `2.1.197 (Claude Code) (${join(bin, 'claude')})` })
  const codexOptional = await checkCliInstalled('codex', completeConfig({}), ctx)
  assert.equal(codexOptional.result.status, 'ok')
  assert.match(codexOptional.result.detail, /not installed \(optional; the default provider is claude\)/)
  const codexDefault = await checkCliInstalled('codex', completeConfig({ provider: 'codex' }), ctx)
  assert.equal(codexDefault.result.status, 'fail')
  assert.equal(codexDefault.result.fix, 'npm install -g @openai/codex')
  const explicit = await checkCliInstalled('codex', completeConfig({ provider: 'codex', cli_paths: { codex: broken } }), ctx)
  assert.equal(explicit.result.status, 'fail')
  assert.match(explicit.result.detail, /does not run \(`--version` exit 127: error while loading shared libraries\)/)
  const wrongPath = await checkCliInstalled('claude', completeConfig({ cli_paths: { claude: join(dir, 'nope') } }), ctx)
  assert.match(wrongPath.result.detail, /cli_paths\.claude is .*nope, which is not an executable file/)
})

test('CLI logins (best effort): credential files, OAuth account, CLAUDE_CONFIG_DIR, CODEX_HOME and API keys count', async (t) => {
  const userHome = await tempDir(t)
  const config = completeConfig({})
  const base = { env: {}, userHome, platform: 'linux' as const }
  const none = await checkCliLogin('claude', config, base)
  assert.equal(none.status, 'fail', 'the default provider without a login fails')
  assert.match(none.fix ?? '', /run `claude` once and log in/)
  assert.equal((await checkCliLogin('claude', config, { ...base, platform: 'darwin' })).status, 'warn', 'macOS keeps it in the Keychain')
  assert.equal((await checkCliLogin('codex', config, base)).status, 'warn', 'not the default provider: a warning')
  assert.match((await checkCliLogin('claude', config, { ...base, env: { ANTHROPIC_API_KEY: 'sk-x' } })).detail, /ANTHROPIC_API_KEY is set/)

  await writeFile(join(userHome, '.claude.json'), JSON.stringify({ oauthAccount: { emailAddress: 'a@b.c' } }))
  const oauth = await checkCliLogin('claude', config, base)
  assert.equal(oauth.status, 'ok')
  assert.match(oauth.detail, /an OAuth account in .*\.claude\.json/)
  assert.doesNotMatch(oauth.detail, /a@b\.c/, 'the account\'s address is not shown')

  const configDir = join(userHome, 'cfg')
  await mkdir(configDir)
  assert.equal((await checkCliLogin('claude', config, { ...base, env: { CLAUDE_CONFIG_DIR: configDir } })).status, 'fail', 'with CLAUDE_CONFIG_DIR, ~/.claude.json is not where Claude looks')
  await writeFile(join(configDir, '.credentials.json'), '{}')
  assert.equal((await checkCliLogin('claude', config, { ...base, env: { CLAUDE_CONFIG_DIR: configDir } })).detail, `credentials in ${join(configDir, '.credentials.json')}`)

  const codexHome = join(userHome, 'codex')
  await mkdir(codexHome)
  await writeFile(join(codexHome, 'auth.json'), '{}')
  assert.equal((await checkCliLogin('codex', config, { ...base, env: { CODEX_HOME: codexHome } })).status, 'ok')
  assert.equal((await checkCliLogin('codex', config, { ...base, env: { CODEX_API_KEY: 'x' } })).status, 'ok')
})

test('service: reported when installed, with the linger warning on Linux; nothing inside a container', async (t) => {
  const userHome = await tempDir(t)
  const opts = { platform: 'linux' as const, env: {}, userHome, user: 'alice', inContainer: false, lingerDir: join(userHome, 'linger') }
  assert.equal((await checkService(opts))?.status, 'ok')
  assert.match((await checkService(opts))?.detail ?? '', /not installed as a service/)
  await mkdir(join(userHome, '.config', 'systemd', 'user'), { recursive: true })
  await writeFile(join(userHome, '.config', 'systemd', 'user', 'ductor.service'), '')
  const noLinger = await checkService(opts)
  assert.equal(noLinger?.status, 'warn')
  assert.equal(noLinger?.fix, 'sudo loginctl enable-linger alice')
  await mkdir(opts.lingerDir)
  await writeFile(join(opts.lingerDir, 'alice'), '')
  assert.equal((await checkService(opts))?.status, 'ok')
  assert.equal(await checkService({ ...opts, inContainer: true }), null)
})

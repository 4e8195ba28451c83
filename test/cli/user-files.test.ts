import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fakeClis, runCli, tempDir, ductor, build } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

/**
 * Issue 16, item 1 (and the unknown keys of item 9): a file the user wrote that does not parse is
 * never replaced. Through the real entry points: `ductor serve`, `ductor init`, `ductor doctor`,
 * PATCH /api/config.
 */

const GOOD_CONFIG = { telegram_token: '', allowed_user_ids: [111111], user_timezone: 'Europe/Berlin', admin: { token: 'user-files-admin-token-0123456789' } }

async function homeWith (t: Parameters<typeof tempDir>[0], files: Record<string, string>): Promise<string> {
  const home = await tempDir(t)
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(home, name, '..'), { recursive: true })
    await writeFile(join(home, name), text)
  }
  return home
}

test('a config.json, cron_jobs.json or webhooks.json that is not JSON stops ductor serve with one line (file, line, column) and exit 2; nothing is replaced', async (t) => {
  const bin = await fakeClis(t)
  const broken = {
    'config/config.json': '{\n  "telegram_token": "",\n  "allowed_user_ids": [111111],\n}\n',
    'cron_jobs.json': '{"jobs": [\n  {"id": "wake", "title": "Wake", "schedule": "0 7 * * *", "task_folder": "wake" "agent_instruction": "x"}\n]}\n',
    'webhooks.json': '{"hooks": [}\n'
  }
  const expected = {
    'config/config.json': 'line 4, column 1: Expected double-quoted property name',
    'cron_jobs.json': 'line 2, column 82: Expected \',\' or \'}\' after property value',
    'webhooks.json': 'line 1, column 12: Unexpected token'
  }
  for (const [name, text] of Object.entries(broken)) {
    const files: Record<string, string> = { 'config/config.json': JSON.stringify(GOOD_CONFIG), [name]: text }
    const home = await homeWith(t, files)
    const run = await runCli(['serve'], { DUCTOR_HOME: home, DUCTOR_PORT: '0', ...bin.env })
    assert.equal(run.code, 2, `${name}: ${run.stderr}`)
    const lines = run.stderr.trim().split('\n')
    assert.equal(lines.length, 1, `one line: ${run.stderr}`)
    assert.ok(lines[0]?.startsWith(`ductor: ${join(home, name)} is not valid JSON: ${expected[name as keyof typeof expected].replace(/Unexpected token$/, '')}`), lines[0])
    assert.match(lines[0] ?? '', /ductor left it as it is; fix it and start ductor again$/)
    assert.equal(await readFile(join(home, name), 'utf8'), text, `${name} is as the user left it`)
    if (name !== 'config/config.json') assert.equal(JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')).admin.token, GOOD_CONFIG.admin.token, 'no new admin token')
    assert.deepEqual((await readdir(join(home, 'config'))).sort(), ['config.json'], 'no config.json.corrupt-…, nothing generated')
    assert.deepEqual((await readdir(home)).filter((n) => n.includes('corrupt')), [])
  }
})

test('ductor init refuses to overwrite a config.json that is not JSON (exit 2); ductor doctor names file, line and column', async (t) => {
  const text = '{ "telegram_token": "123456789:AAHabcdefghijklmnopqrstuvwxyz0123456", "allowed_user_ids": [111111], }'
  const home = await homeWith(t, { 'config/config.json': text, 'cron_jobs.json': '{"jobs": [' })
  const init = await ductor(['init', '--non-interactive', '--timezone', 'Europe/Berlin'], { DUCTOR_HOME: home })
  assert.equal(init.code, 2, init.stderr)
  assert.equal(init.stderr, `ductor: ${join(home, 'config', 'config.json')} is not valid JSON: line 1, column 101: Expected double-quoted property name; ductor init changed nothing; fix the file (or move it away) and run ductor init again\n`)
  assert.equal(await readFile(join(home, 'config', 'config.json'), 'utf8'), text)

  const doctor = await ductor(['doctor'], { DUCTOR_HOME: home })
  assert.equal(doctor.code, 1)
  assert.match(doctor.stdout, /✗ config\s+.*config\.json is not valid JSON: line 1, column 101: Expected double-quoted property name; ductor will not start until it is fixed/)
  assert.match(doctor.stdout, /✗ cron jobs\s+.*cron_jobs\.json is not valid JSON: line 1, column 11: the text ends too early/)
  assert.equal(await readFile(join(home, 'config', 'config.json'), 'utf8'), text, 'doctor touches nothing')
})

test('unknown config keys warn at start and in doctor with the nearest key; PATCH /api/config refuses them the same way and never writes over a broken hand edit', async (t) => {
  const config = { ...GOOD_CONFIG, cli_timout: 900, heartbeat: { quiet_strat: 22 } }
  const { home, env, stop } = await build(t, { serve: true, env: { DUCTOR_LOG_LEVEL: 'info' }, config })
  const path = join(home, 'config', 'config.json')
  const log = await readFile(join(home, 'logs', (await readdir(join(home, 'logs'))).find((n) => n.endsWith('.log')) ?? 'ductor.log'), 'utf8')
  assert.match(log, /config\.json: unknown key \\"cli_timout\\" \(kept, not used\); did you mean \\"cli_timeout\\"\?/)
  assert.match(log, /unknown key \\"heartbeat\.quiet_strat\\" \(kept, not used\); did you mean \\"heartbeat\.quiet_start\\"\?/)
  assert.equal(JSON.parse(await readFile(path, 'utf8')).cli_timout, 900, 'the unknown key is kept in the file')

  const doctor = await ductor(['doctor'], env)
  assert.match(doctor.stdout, /! config\s+.*unknown key "cli_timout" \(kept, not used\); did you mean "cli_timeout"\?/)
  assert.match(doctor.stdout, /fix: rename or remove those keys in /)

  const info = await readServiceInfo(join(home, 'state'))
  const patch = async (body: unknown): Promise<{ status: number, body: Record<string, string> }> => {
    const res = await fetch(`${info!.admin_url ?? info!.url}/api/config`, { method: 'PATCH', headers: { authorization: `Bearer ${GOOD_CONFIG.admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, body: await res.json() as Record<string, string> }
  }
  const typo = await patch({ cli_timout: 1200 })
  assert.equal(typo.status, 400)
  assert.equal(typo.body['message'], 'body/cli_timout: unknown config key; did you mean "cli_timeout"? (see docs/configuration.md for the keys)')

  // A hand edit made while the service runs is the base of the next change, not written over…
  const edited = { ...JSON.parse(await readFile(path, 'utf8')), model: 'sonnet' }
  await writeFile(path, JSON.stringify(edited, null, 2))
  const ok = await patch({ cli_timeout: 900 })
  assert.equal(ok.status, 200)
  const after = JSON.parse(await readFile(path, 'utf8'))
  assert.equal(after.model, 'sonnet', 'the hand edit is kept')
  assert.equal(after.cli_timeout, 900)
  // …and one that is not JSON refuses the change: the user's text stays.
  const brokenText = JSON.stringify(after, null, 2).replace('"cli_timeout": 900,', '"cli_timeout": 900,,')
  await writeFile(path, brokenText)
  const refused = await patch({ cli_timeout: 1000 })
  assert.equal(refused.status, 409)
  assert.match(refused.body['message'] ?? '', /config\.json is not valid JSON: line \d+, column \d+: .*; nothing was changed; fix the file first$/)
  assert.equal(await readFile(path, 'utf8'), brokenText)
  assert.equal(await stop(), 0)
})

// Under `npm start` PATH begins with node_modules/.bin, which holds the pinned test copies of
// `claude` and `codex`. ductor must run the CLI the user installed, the one `ductor doctor` checks
// (issue 16, item 7); and `npm start` must not rebuild a build that is up to date.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT, builtDist, ductor, fakeClis, serviceUp, spawnService, tempDir } from '../helper.ts'

const run = promisify(execFile)

test('with node_modules/.bin first on PATH (npm start), the service and doctor both use the user\'s claude', async (t) => {
  const user = await fakeClis(t)
  const record = join(await tempDir(t), 'claude-run.json')
  const path = `${join(ROOT, 'node_modules', '.bin')}:${user.dir}:/usr/bin:/bin`
  // The binary itself: it is `ductor`'s entry that drops node_modules/.bin from PATH.
  const home = await tempDir(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', PATH: path, FAKE_CLI_RECORD: record, npm_lifecycle_event: 'start' }
  const service = await spawnService(t, env)
  await serviceUp(home)
  const chat = await ductor(['chat', '--json', 'hello'], env)
  assert.equal((JSON.parse(chat.stdout) as { status: string }).status, 'success', chat.stderr)
  // Only the user's (fake) claude writes this record; the pinned copy in node_modules/.bin would not.
  const ran = JSON.parse(await readFile(record, 'utf8')) as { argv: string[], env: Record<string, string> }
  assert.equal(ran.argv[0], '-p', 'the user\'s claude ran')
  assert.ok(!(ran.env['PATH'] ?? '').includes(join(ROOT, 'node_modules', '.bin')), 'and the agent\'s PATH has no test copies either')

  const doctor = await ductor(['doctor', '--json', '--timeout', '500'], env)
  const claude = (JSON.parse(doctor.stdout) as Array<{ name: string, status: string, detail: string }>).find((c) => c.name === 'claude CLI')
  assert.ok(claude !== undefined && claude.detail.includes(user.dir), `doctor checks the same binary: ${JSON.stringify(claude)}`)
  assert.ok(!claude.detail.includes('node_modules'), 'not the pinned copy')
  await service.stop()
})

test('`npm start`\'s build step does nothing when dist/ is newer than the sources', { timeout: 600_000 }, async () => {
  // The first call builds when needed (a fresh checkout; the build shared with the build and pack
  // tests); the second must find nothing to do.
  await builtDist()
  const started = Date.now()
  const again = await run(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.mjs')], { cwd: ROOT })
  assert.match(again.stderr, /the build in dist\/ is up to date/)
  assert.ok(Date.now() - started < 30_000, 'no compilation (generous margin for a busy machine)')
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  // `npm start` runs the `ductor` command (bin/ductor, the sh launcher whose shell supervises: ADR 46).
  assert.match(pkg.scripts['start'] ?? '', /^node scripts\/build-if-stale\.mjs && exec sh bin\/ductor serve$/, "exec: npm's shell is replaced, so a SIGTERM npm passes on reaches the supervisor")
  assert.match(pkg.scripts['prepack'] ?? '', /build-if-stale/)
})

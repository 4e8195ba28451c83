// The supervisor (`ductor serve`, issue 14, ADR 19, ADR 46): a service that dies unexpectedly (a
// non-zero exit, a kill -9 of the service process alone) has its CLIs ended and is started again
// after a backoff, each restart logged; a clean exit 0 of the service ends the supervisor with 0.
// Here through the `ductor` command (bin/ductor); test/faults/supervise-loop.test.ts has the whole
// policy of the sh loop, test/cli/launcher.test.ts the node path (`node … ductor.js serve`).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ADMIN_TOKEN, LAUNCHER, fakeClis, serviceUp, spawnService, tempDir, testConfig, waitFor } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'
import { forgetChildMemorySettings, SERVICE_MALLOC_ARENA_MAX } from '../../src/cli/supervise.ts'
import { survivors } from './fault-helpers.ts'
import { alive, recordedRuns } from './serve-helpers.ts'

const PRELOAD = fileURLToPath(new URL('./crash-once-preload.mjs', import.meta.url))

test('the supervisor restarts a service that crashed or was killed -9 alone, ends its CLIs first, and exits 0 when the service stops cleanly', { timeout: 120_000 }, async (t) => {
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  const records = join(home, 'records')
  await mkdir(records)
  await writeJsonAtomic(homePaths(home).config, testConfig({ server: { host: '127.0.0.1', port: 0 }, cli_paths: { claude: bin.claude, codex: bin.codex }, allowed_user_ids: [7] }))
  const crashFile = join(home, 'crashed-once')
  // CLIs spawned by the service itself (DUCTOR_SPAWNER=0): with the spawner (the default) the
  // spawner ends them the moment the service dies, before the supervisor looks (test/providers/
  // spawner.test.ts); this test is about the supervisor's own killer, the last line of defence.
  // The `ductor` command (bin/ductor: its shell supervises, ADR 46); the preload through NODE_OPTIONS.
  const served = await spawnService(t, { DUCTOR_HOME: home, HOME: home, FAKE_CLI_RECORD_DIR: records, FAKE_CLI_DELAY_MS: '1000', CRASH_ONCE_FILE: crashFile, DUCTOR_SPAWNER: '0', NODE_OPTIONS: `--import=${PRELOAD}` }, { supervisor: true, command: [LAUNCHER], args: ['serve'] })

  // The first service process exits 1 while starting; the supervisor starts another after 1 s.
  const first = await serviceUp(home)
  const crashedPid = Number(await readFile(crashFile, 'utf8'))
  assert.notEqual(first.pid, crashedPid)
  assert.match(served.output(), new RegExp(`ductor: the service \\(pid ${crashedPid}\\) ended unexpectedly with exit code 1; restarting it in 1 s`))

  // A chat run streams from a slow CLI; the service process alone is killed -9.
  const answer = fetch(`${first.admin_url ?? ''}/api/chats/7/messages`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a long story' }) })
    .then((r) => r.status, () => 0)
  const cli = await waitFor(async () => (await recordedRuns(records))[0], 20_000, 'the CLI to run')
  // The service started with the supervisor's glibc setting (ADR 37); the CLI it started does not inherit it.
  assert.ok((await readFile(`/proc/${first.pid}/environ`, 'utf8')).split('\0').includes(`MALLOC_ARENA_MAX=${SERVICE_MALLOC_ARENA_MAX}`), 'the service started with MALLOC_ARENA_MAX')
  const [record] = await readdir(records)
  const cliEnv = (JSON.parse(await readFile(join(records, record ?? ''), 'utf8')) as { env: Record<string, string> }).env
  assert.equal(cliEnv['MALLOC_ARENA_MAX'], undefined, 'the glibc setting stays with the service')
  assert.equal(cliEnv['DUCTOR_SET_MALLOC_ARENA_MAX'], undefined)
  assert.equal(cliEnv['DUCTOR_SUPERVISED'], undefined, 'a ductor serve the agent starts is not taken for the supervisor\'s child')
  process.kill(first.pid, 'SIGKILL')
  const second = await serviceUp(home, first.pid)
  assert.equal(alive(cli.pid), false, 'the CLI of the killed service was ended before the service was started again')
  assert.equal(await answer, 0, 'the killed service\'s request was cut')
  assert.match(served.output(), new RegExp(`ductor: ended 1 CLI process\\(es\\) the service left running\\nductor: the service \\(pid ${first.pid}\\) ended unexpectedly with signal SIGKILL; restarting it in 2 s`))
  assert.equal(served.child.exitCode, null, 'the supervisor still runs')

  // A clean stop of the service (SIGTERM to it alone: exit 0) ends the supervisor with 0.
  process.kill(second.pid, 'SIGTERM')
  assert.equal(await served.exited, 0, served.output().slice(-3000))
  assert.deepEqual(survivors(home), [], 'no process of the home is left')
})

test('the service forgets the glibc setting its supervisor added (ADR 37), and keeps the user\'s own', () => {
  // What bin/ductor-supervise.sh gives the service (test/faults/supervise-loop.test.ts checks it does).
  const added: NodeJS.ProcessEnv = { PATH: '/bin', MALLOC_ARENA_MAX: String(SERVICE_MALLOC_ARENA_MAX), DUCTOR_SET_MALLOC_ARENA_MAX: '1' }
  const own: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '8' }
  forgetChildMemorySettings(own)
  assert.equal(own['MALLOC_ARENA_MAX'], '8', 'and stays for everything the service starts')
  forgetChildMemorySettings(added)
  assert.equal(added['MALLOC_ARENA_MAX'], undefined, 'the one the supervisor added goes')
  assert.equal(added['PATH'], '/bin')
})

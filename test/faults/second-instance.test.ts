// A second `ductor serve` on a home that is already running (breakit F1, ADR 43): it refuses with
// exit 75 at once, and neither it nor its supervisor touches the running service's CLIs, not even
// when it fails for another reason (a config error) and the supervisor's clean-up runs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ADMIN_TOKEN, fakeClis, spawnService, tempDir, testConfig, waitFor } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'
import { ALREADY_RUNNING_EXIT_CODE, CONFIG_ERROR_EXIT_CODE } from '../../src/exit-codes.ts'
import { alive, recordedRuns } from './serve-helpers.ts'

function recordedGroups (home: string): Promise<number[]> {
  return readFile(join(home, 'state', 'cli-groups.jsonl'), 'utf8').then((text) => [...text.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1])), () => [])
}

test('a second ductor serve on a running home exits 75 at once and leaves the running service\'s CLIs alone', { timeout: 240_000 }, async (t) => {
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  const records = join(home, 'records')
  await mkdir(records)
  const paths = homePaths(home)
  await writeJsonAtomic(paths.config, testConfig({ server: { host: '127.0.0.1', port: 0 }, cli_paths: { claude: bin.claude, codex: bin.codex }, allowed_user_ids: [7] }))
  const env = { DUCTOR_HOME: home, HOME: home, FAKE_CLI_RECORD_DIR: records }
  // The first service, with its CLI spawner (the default), as a user runs it.
  const first = await spawnService(t, env, { supervisor: true })
  const info = await first.up(120_000)

  // A chat run whose CLI keeps running (it prints one line, then waits).
  let settled = false
  fetch(`${info.admin_url ?? ''}/api/chats/7/messages`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: '[[hang]] a long story' }) })
    .then((r) => r.text(), () => '').finally(() => { settled = true })
  const cli = await waitFor(async () => (await recordedRuns(records))[0], 30_000, 'the CLI to run')
  // Its group and the spawner's are in the durable list a clean-up reads.
  const groups = await waitFor(async () => { const pids = await recordedGroups(home); return pids.length >= 2 ? pids : undefined }, 10_000, 'the groups recorded')

  // The second `ductor serve` (with its supervisor): refused, exit 75, no clean-up, no restart.
  const second = await spawnService(t, env, { supervisor: true })
  assert.equal(await second.exited, ALREADY_RUNNING_EXIT_CODE, second.output())
  assert.match(second.stderr(), new RegExp(`another ductor is already running on this home \\(pid ${info.pid}, lock `))
  assert.doesNotMatch(second.output(), /ended \d+ CLI|restarting|crash/)
  assert.ok(alive(cli.pid), 'the running service\'s CLI still runs')
  for (const pid of groups) assert.ok(alive(pid), `recorded group ${pid} still runs`)

  // A second start that fails before the lock (the config was broken by hand meanwhile): exit 2; the
  // supervisor's clean-up runs, but the groups belong to a live service and are left alone.
  const good = await readFile(paths.config, 'utf8')
  await writeFile(paths.config, good.replace('{', '{,'))
  const third = await spawnService(t, env, { supervisor: true })
  const code = await third.exited
  await writeFile(paths.config, good)
  assert.equal(code, CONFIG_ERROR_EXIT_CODE, third.output())
  assert.doesNotMatch(third.output(), /ended \d+ CLI/)
  assert.ok(alive(cli.pid), 'the running service\'s CLI still runs after the supervisor\'s clean-up')
  for (const pid of groups) assert.ok(alive(pid), `recorded group ${pid} still runs`)
  assert.equal(settled, false, 'the chat\'s run was not cut')
  assert.equal(first.child.exitCode, null, 'the first ductor still runs')

  // The first service stops as usual and ends its own run.
  assert.equal(await first.stop(), 0, first.output().slice(-3000))
  await waitFor(() => alive(cli.pid) ? undefined : true, 20_000, 'the CLI ended with its service')
})

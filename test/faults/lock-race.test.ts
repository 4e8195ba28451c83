// Many `ductor serve` started on one home at the same moment (ADR 49): exactly one runs, every other
// exits 75 with its one line. First on a home without a lock (the lock must be whole from its first
// moment: a start that found it empty took it over), then on one whose lock a `kill -9` left behind
// (two starts that both found it stale both took it). lock-race-preload.mjs holds every start at
// the lock until all are there, and slows each step on it, so the windows are wide.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { fakeClis, spawnService, tempDir, testConfig, waitFor, type Spawned } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'
import { ALREADY_RUNNING_EXIT_CODE } from '../../src/exit-codes.ts'

const PRELOAD = fileURLToPath(new URL('./lock-race-preload.mjs', import.meta.url))
const STARTS = 6

test('starts racing for one home: exactly one runs, the others exit 75 (a fresh home, then a stale lock)', { timeout: 300_000 }, async (t) => {
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  const paths = homePaths(home)
  await writeJsonAtomic(paths.config, testConfig({ server: { host: '127.0.0.1', port: 0 }, cli_paths: { claude: bin.claude, codex: bin.codex } }))

  async function race (round: string): Promise<Spawned> {
    const dir = join(home, `race-${round}`)
    await mkdir(dir)
    const env = { DUCTOR_HOME: home, HOME: home, LOCKRACE_DIR: dir }
    const starts = await Promise.all(Array.from({ length: STARTS }, async () => await spawnService(t, env, { preload: PRELOAD })))
    await waitFor(async () => (await readdir(dir)).length >= STARTS ? true : undefined, 120_000, 'every start at the lock')
    await writeFile(join(dir, 'go'), '')
    // Each start either exits or listens ('ductor is listening' is its log line once it serves).
    const listening = (s: Spawned): boolean => s.output().includes('ductor is listening')
    await waitFor(() => starts.every((s) => s.child.exitCode !== null || listening(s)) ? true : undefined, 120_000, 'every start to exit or listen')
    const running = starts.filter((s) => s.child.exitCode === null)
    const report = starts.map((s) => `pid ${s.child.pid ?? '?'}: ${s.child.exitCode ?? 'running'}\n${s.stderr().slice(-400)}`).join('\n')
    assert.equal(running.length, 1, `${round}: exactly one start runs\n${report}`)
    const [winner] = running as [Spawned]
    const info = await winner.up(60_000)
    assert.equal(info.pid, winner.child.pid)
    for (const s of starts.filter((s) => s !== winner)) {
      assert.equal(await s.exited, ALREADY_RUNNING_EXIT_CODE, `${round}: ${s.output().slice(-1000)}`)
      assert.match(s.stderr(), new RegExp(`another ductor is already running on this home \\(pid ${String(winner.child.pid)}, lock ${paths.pidFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`), round)
    }
    assert.equal((await readFile(paths.pidFile, 'utf8')).split('\n')[0], String(winner.child.pid), `${round}: the lock names the one that runs`)
    assert.deepEqual((await readdir(home)).filter((name) => name.startsWith('ductor.pid')), ['ductor.pid'], `${round}: no claim or temporary file left`)
    return winner
  }

  const first = await race('fresh')
  // A kill -9 leaves the lock behind, naming a dead process.
  process.kill(first.child.pid as number, 'SIGKILL')
  await first.exited
  const second = await race('stale')
  assert.equal(await second.stop(), 0, second.output().slice(-2000))
})

// kill -9 of the service while webhook deliveries pour in (issue 20, ADR 0041): the inbox journal
// compacts itself while appends go on, and the trigger counts are written once a second for every
// delivery that finished meanwhile. Two lives on one home, each killed at a random moment after
// enough 48 KB deliveries for the journal to pass its 16 MiB compaction size at least once. One
// delivery in four goes to a `cron_task` hook whose runs wait for the one run slot a slow CLI holds,
// so those stay unfinished (and are copied by every compaction, or appended while one runs); the
// others go to a `wake` hook with no allowed user, so they finish at once (`error:no_chat`) and are
// counted. After each kill, on disk: every acknowledged (202) cron_task delivery is unfinished in the
// journal unless its CLI started; every other one is unfinished, or counted in webhooks.json.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readdir } from 'node:fs/promises'
import { ADMIN_TOKEN, fakeClis, seededRandom, tempDir, testConfig, spawnService } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { createJournal } from '../../src/store/journal.ts'
import { homePaths } from '../../src/home/paths.ts'

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
const SENDERS = 8
/** 48 KB a delivery: the journal's 16 MiB compaction size is passed every ~350 deliveries. */
const PAD = 'x'.repeat(48 * 1024)

test('kill -9 while deliveries pour in and the journal compacts: every acknowledged delivery is still unfinished in the journal, or its CLI started, or it is counted', { timeout: 120_000 }, async (t) => {
  const seed = Number(process.env['HOOKS_KILL_SEED'] ?? Math.floor(Math.random() * 2 ** 31))
  t.diagnostic(`seed ${seed} (HOOKS_KILL_SEED)`)
  const rand = seededRandom(seed)
  const home = await tempDir(t)
  const paths = homePaths(home)
  const bin = await fakeClis(t)
  const cliRuns = await tempDir(t)
  t.after(async () => {
    // The slow CLIs the kills left behind (each in its own process group) are ended.
    for (const f of await readdir(cliRuns).catch(() => [])) {
      const pid = (JSON.parse(await readFile(join(cliRuns, f), 'utf8')) as { pid: number }).pid
      try { process.kill(-pid, 'SIGKILL') } catch {}
    }
  })
  await writeJsonAtomic(paths.config, testConfig({ webhooks: { enabled: true, rate_limit_per_minute: 100_000 }, server: { port: 0 }, allowed_user_ids: [], limits: { max_concurrent_runs: 1 } }))
  const env = { ...bin.env, DUCTOR_HOME: home, HOME: home, FAKE_CLI_DELAY_MS: '60000', FAKE_CLI_RECORD_DIR: cliRuns }
  const acked = { slow: new Set<string>(), fast: new Set<string>() }
  const tokens = { slow: '', fast: '' }
  let next = 0

  for (let life = 1; life <= 2; life++) {
    const service = await spawnService(t, env)
    const at = await service.up()
    if (life === 1) {
      for (const [id, hook] of [['slow', { mode: 'cron_task', task_folder: 'slow', quiet_start: 0, quiet_end: 0 }], ['fast', { mode: 'wake' }]] as const) {
        const res = await fetch(`${at.admin_url ?? ''}/api/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ id, title: id, prompt_template: 'n {{n}}', dedupe_header: 'X-Delivery', ...hook }) })
        const body = await res.json() as { token: string }
        assert.equal(res.status, 201, JSON.stringify(body))
        tokens[id] = body.token
      }
    }
    const killAfter = 360 + Math.floor(rand() * 200)
    let ackedThisLife = 0
    let killed = false
    const exited = service.exited
    const sender = async (): Promise<void> => {
      while (!killed) {
        const n = next++
        const id = `d-${n}`
        const hook = n % 4 === 0 ? 'slow' : 'fast'
        try {
          const res = await fetch(`${at.url}/hooks/${hook}`, { method: 'POST', headers: { authorization: `Bearer ${tokens[hook]}`, 'content-type': 'application/json', 'x-delivery': id }, body: JSON.stringify({ n: id, pad: PAD }) })
          await res.arrayBuffer()
          if (res.status === 202) {
            acked[hook].add(id)
            if (++ackedThisLife >= killAfter && !killed) {
              killed = true
              service.child.kill('SIGKILL')
            }
          } else if (!killed) assert.fail(`delivery ${id}: ${res.status}`)
        } catch (err) {
          if (!killed) throw err
        }
      }
    }
    await Promise.all(Array.from({ length: SENDERS }, sender))
    await exited

    // On disk right after the kill: unfinished in the journal, or its CLI started, or its count written.
    const journal = await createJournal({ path: join(paths.state, 'inbox.jsonl') })
    const pending = new Set(journal.pending().map((e) => e.key.replace(/^(slow|fast):/, '')))
    await journal.close()
    // Each CLI start and each count stands for one delivery (a replayed one may count twice).
    const started = (await readdir(cliRuns)).length
    const hooks = JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')) as { hooks: Array<{ id: string, trigger_count: number }> }
    const counted = hooks.hooks.reduce((sum, h) => sum + h.trigger_count, 0)
    const slowGone = [...acked.slow].filter((id) => !pending.has(id))
    const gone = [...slowGone, ...[...acked.fast].filter((id) => !pending.has(id))]
    assert.ok(gone.length <= started + counted, `life ${life}: ${gone.length} acknowledged deliveries are not unfinished in the journal, but only ${started} CLIs started and ${counted} deliveries are counted`)
    // A cron_task delivery waits for the one run slot: only those whose CLI started may be done.
    assert.ok(slowGone.length <= started, `life ${life}: ${slowGone.length} acknowledged cron_task deliveries are neither unfinished in the journal nor started (${started} CLIs started): ${slowGone.slice(0, 5).join(' ')}`)
  }
})

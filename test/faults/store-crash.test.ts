// kill -9 of a process in the middle of writing every store (issue 9): after each kill, every file is a
// complete old or new version (it parses, nothing acknowledged is missing), the stores load without
// quarantining anything, and the journal still holds every acknowledged entry not marked done.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, memoryLogger, seededRandom } from '../helper.ts'
import { createSessionStore } from '../../src/core/session-store.ts'
import { createCronStore } from '../../src/automation/cron-store.ts'
import { createHookStore } from '../../src/webhooks/hook-store.ts'
import { createJournal } from '../../src/store/journal.ts'

interface Acked { s: number, c: number, h: number, journal: Set<number>, done: Set<number> }

async function lifeAndKill (home: string, killAfterMs: number, acked: Acked): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./store-crash-child.ts', import.meta.url).pathname, home], { stdio: ['ignore', 'pipe', 'inherit'] })
  let rest = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        const [type, value] = line.split(' ')
        const n = Number(value)
        if (type === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        else if (type === 's' || type === 'c' || type === 'h') acked[type] = Math.max(acked[type], n)
        else if (type === 'j') acked.journal.add(n)
        else if (type === 'd') acked.done.add(n)
      }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited by itself: code ${code}`)))
  })
}

async function checkFiles (home: string, acked: Acked, life: string): Promise<void> {
  const sessions = JSON.parse(await readFile(join(home, 'sessions.json'), 'utf8')) as Record<string, { provider_sessions: { claude?: { message_count: number } } }>
  const messages = Object.values(sessions).reduce((sum, e) => sum + (e.provider_sessions.claude?.message_count ?? 0), 0)
  assert.ok(messages >= acked.s, `${life}: sessions.json has ${messages} messages, ${acked.s} were acknowledged`)
  const version = (titles: string[]): number => Math.max(0, ...titles.map((t) => Number(t.slice(1))))
  const cron = JSON.parse(await readFile(join(home, 'cron_jobs.json'), 'utf8')) as { jobs: Array<{ title: string }> }
  assert.equal(cron.jobs.length, 30, life)
  assert.ok(version(cron.jobs.map((j) => j.title)) >= acked.c, `${life}: cron_jobs.json is older than acknowledged`)
  const hooks = JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')) as { hooks: Array<{ title: string }> }
  assert.equal(hooks.hooks.length, 30, life)
  assert.ok(version(hooks.hooks.map((h) => h.title)) >= acked.h, `${life}: webhooks.json is older than acknowledged`)
}

test('kill -9 mid-write of sessions.json, cron_jobs.json, webhooks.json and the journal: never half a file, nothing acknowledged lost', { timeout: 180_000 } /* four lives of a tsx child; ~7 s on a quiet machine, a minute and more on a loaded one */, async (t) => {
  const seed = Number(process.env['STORE_CRASH_SEED'] ?? Date.now() % 1_000_000)
  t.diagnostic(`seed ${seed} (replay with STORE_CRASH_SEED=${seed})`)
  const next = seededRandom(seed)
  const home = await tempDir(t)
  const acked: Acked = { s: 0, c: 0, h: 0, journal: new Set(), done: new Set() }
  const lives = 4
  for (let life = 1; life <= lives; life++) {
    await lifeAndKill(home, 150 + Math.floor(next() * 900), acked)
    await checkFiles(home, acked, `life ${life} (seed ${seed})`)
  }
  assert.ok(acked.s > 0 && acked.c > 0 && acked.h > 0 && acked.journal.size > 0, 'every store was written before the kills')

  // The real loaders accept what the kills left: nothing quarantined, nothing lost.
  const { logger, lines } = memoryLogger()
  const sessions = await createSessionStore({ path: join(home, 'sessions.json'), logger })
  assert.ok(sessions.list().length > 0)
  const cron = createCronStore({ path: join(home, 'cron_jobs.json'), logger })
  assert.equal((await cron.load()).status, 'ok')
  const hooks = createHookStore({ path: join(home, 'webhooks.json'), logger })
  const summary = await hooks.load()
  assert.equal(hooks.list().length, 30, JSON.stringify(summary))
  const journal = await createJournal({ path: join(home, 'state', 'inbox.jsonl'), logger })
  t.after(() => journal.close())
  const pending = new Set(journal.pending().map((e) => e.seq))
  const lost = [...acked.journal].filter((seq) => !acked.done.has(seq) && !pending.has(seq))
  assert.deepEqual(lost, [], `seed ${seed}: acknowledged journal entries lost`)
  assert.deepEqual(lines.filter((l) => l.includes('corrupt')), [], 'nothing was quarantined')
  const names = [...await readdir(home), ...await readdir(join(home, 'state'))]
  assert.deepEqual(names.filter((n) => n.includes('.corrupt-')), [])
  assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), [], 'the temp files of the killed writers are cleaned up at load')
  t.diagnostic(`acknowledged before the kills: ${acked.s} session messages, ${acked.c} cron and ${acked.h} webhook writes, ${acked.journal.size} journal entries`)
})

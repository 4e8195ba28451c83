// Child process for the store crash test: rewrites every store of a home as fast as it can
// (sessions.json, cron_jobs.json, webhooks.json, the journal with frequent compactions) and prints one
// line per acknowledged write: `s <n>` (sum of message counts on disk), `c <n>` / `h <n>` (version in a
// title), `j <seq>` / `d <seq>` (journal append / done). The parent kills it with SIGKILL at random.
// Run: node --import tsx store-crash-child.ts <home>
import { join } from 'node:path'
import { createSessionStore } from '../../src/core/session-store.ts'
import { createCronStore } from '../../src/automation/cron-store.ts'
import { createHookStore } from '../../src/webhooks/hook-store.ts'
import { createJournal } from '../../src/store/journal.ts'

const home = process.argv[2]
if (home === undefined) throw new Error('usage: store-crash-child.ts <home>')
const say = (line: string): void => { process.stdout.write(line + '\n') }
const JOBS = 30
const pad = (n: number): string => `entry ${n} `.repeat(700)

const sessions = await createSessionStore({ path: join(home, 'sessions.json') })
const cron = createCronStore({ path: join(home, 'cron_jobs.json') })
await cron.load()
const hooks = createHookStore({ path: join(home, 'webhooks.json') })
await hooks.load()
const journal = await createJournal({ path: join(home, 'state', 'inbox.jsonl'), compactBytes: 64 * 1024, lazySyncMs: 5 })

for (let i = 0; i < JOBS; i++) {
  if (cron.get(`job${i}`) === undefined) await cron.create({ id: `job${i}`, title: 'v0', schedule: '0 9 * * *', description: pad(i) })
  if (hooks.get(`hook${i}`) === undefined) await hooks.create({ id: `hook${i}`, title: 'v0', mode: 'wake', prompt_template: '{{x}}', description: pad(i) })
}
const versionOf = (title: string | undefined): number => Number((title ?? 'v0').slice(1))
let cronVersion = Math.max(0, ...cron.list().map((j) => versionOf(j.title)))
let hookVersion = Math.max(0, ...hooks.list().map((h) => versionOf(h.title)))
let messages = sessions.list().reduce((sum, e) => sum + (e.provider_sessions.claude?.message_count ?? 0), 0)
say('ready')

async function sessionWriter (): Promise<void> {
  for (;;) {
    for (let k = 0; k < 20; k++) {
      messages++
      sessions.recordResult(`chat${messages % 400}`, 'claude', { sessionId: `s-${messages}`, costUsd: 0.01, tokens: 10, model: 'opus' })
    }
    const acked = messages
    await sessions.flush()
    say(`s ${acked}`)
  }
}
async function cronWriter (): Promise<void> {
  for (;;) {
    const n = ++cronVersion
    await cron.update(`job${n % JOBS}`, { title: `v${n}` })
    say(`c ${n}`)
  }
}
async function hookWriter (): Promise<void> {
  for (;;) {
    const n = ++hookVersion
    await hooks.update(`hook${n % JOBS}`, { title: `v${n}` })
    say(`h ${n}`)
  }
}
async function journalWriter (id: number): Promise<void> {
  for (let n = 0; ; n++) {
    const key = `${process.pid}-${id}-${n}`
    const { seq } = await journal.append({ kind: 'webhook', key, payload: { key, body: 'x'.repeat(2000) } })
    say(`j ${seq}`)
    if (seq % 2 === 0) {
      journal.markFinished(seq)
      say(`d ${seq}`)
    }
  }
}
await Promise.all([sessionWriter(), cronWriter(), hookWriter(), ...Array.from({ length: 4 }, (_, i) => journalWriter(i))])

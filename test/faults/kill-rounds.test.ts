// Crashes (issue 14): repeated `kill -9` rounds of the real `ductor serve` (supervisor and service,
// SIGKILL to their whole process group) while Telegram updates, webhook deliveries (`cron_task`)
// and admin chat API messages (SSE) are in flight, at four moments: right after the items are
// acknowledged (most still queued, before their spawn), right after a CLI is spawned (its process
// group recorded), while CLIs stream, and when a CLI is writing its result line. Each next life
// starts on the same home; the senders deliver again what they got no 2xx for, as Telegram and
// webhook senders do. The fake CLI records every run it starts (one file per process: "reached the
// model"). Afterwards, for every item:
// - acknowledged (Telegram 200, webhook 202 or "duplicate", chat API: the SSE `running` event with
//   its run id; ADR 19) → it reached the model exactly once, or its run was cut off by a kill after
//   its start was recorded (journal done mark / running event) and before its CLI got anywhere, and
//   then the cut-off is reported: the Telegram chat is told, the run is `error:interrupted`;
// - not acknowledged → at most once (a chat API request without its `running` event is not replayed);
// - no CLI process of a killed life is alive once the next life answers /health.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ADMIN_TOKEN, killTree, waitFor, spawnService, serviceUp, type Spawned } from '../helper.ts'
import { createJournal } from '../../src/store/journal.ts'
import { alive, CHATS, postUpdate, textUpdate, telegramFaultHome } from './serve-helpers.ts'
import { survivors } from './fault-helpers.ts'

const MOMENTS = ['before-spawn', 'after-spawn', 'mid-stream', 'result-line'] as const
type Moment = typeof MOMENTS[number]
const API_CHATS = ['301', '302', '303'] as const
const HOOKS_PER_ROUND = 3
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }

interface Item {
  ingress: 'telegram' | 'webhook' | 'api'
  marker: string
  chat: string
  /** The journal key (Telegram, webhook). */
  key?: string
  acked: boolean
  /** Telegram update / webhook body, for deliveries again. */
  send?: (url: string) => Promise<number>
  /** Chat API: the run id of its `running` event. */
  runId?: string
}

/** Reads an SSE response as it arrives; `events` grows while the stream lasts. */
function chatRequest (adminUrl: string, chat: string, text: string): { events: Array<{ event: string, data: any }>, ended: Promise<void> } {
  const events: Array<{ event: string, data: any }> = []
  const ended = (async () => {
    try {
      const res = await fetch(`${adminUrl}/api/chats/${chat}/messages`, { method: 'POST', headers: { ...admin, accept: 'text/event-stream' }, body: JSON.stringify({ text }) })
      if (res.body === null) return
      const decoder = new TextDecoder()
      let buffer = ''
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let cut
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? ''
          const data = /^data: (.*)$/m.exec(block)?.[1]
          events.push({ event, data: data === undefined ? null : JSON.parse(data) })
        }
      }
    } catch {} // the service was killed under the request
  })()
  return { events, ended }
}

/** Journal keys with a done mark in the journal file as it is now (read between two lives). */
function doneKeys (home: string): Set<string> {
  const keys = new Map<number, string>()
  const done = new Set<string>()
  let text = ''
  try { text = readFileSync(join(home, 'state', 'inbox.jsonl'), 'utf8') } catch { return done }
  for (const line of text.split('\n')) {
    try {
      const rec = JSON.parse(line) as { t: string, seq: number, kind?: string, key?: string }
      if (rec.t === 'e') keys.set(rec.seq, `${rec.kind ?? ''}:${rec.key ?? ''}`)
      else if (rec.t === 'd' && keys.has(rec.seq)) done.add(keys.get(rec.seq) as string)
    } catch {}
  }
  return done
}

function recordedPids (home: string): number[] {
  let text = ''
  try { text = readFileSync(join(home, 'state', 'cli-groups.jsonl'), 'utf8') } catch { return [] }
  return [...text.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]))
}

async function runsOf (dirs: string[]): Promise<Array<{ pid: number, text: string }>> {
  const runs: Array<{ pid: number, text: string }> = []
  for (const dir of dirs) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      try {
        const rec = JSON.parse(await readFile(join(dir, name), 'utf8')) as { pid: number, argv: string[] }
        runs.push({ pid: rec.pid, text: rec.argv.join(' ') })
      } catch {} // being written
    }
  }
  return runs
}

function countOf (runs: Array<{ text: string }>, marker: string): number {
  const re = new RegExp(`\\b${marker}\\b`)
  return runs.filter((r) => re.test(r.text)).length
}

test('kill -9 rounds at four moments with Telegram, webhook and chat API runs in flight: every acknowledged item reaches the model once (or is reported cut off), nothing of a killed life survives its restart', { timeout: 150_000 }, async (t) => {
  const { fake, home } = await telegramFaultHome(t, { webhooks: { enabled: true }, limits: { max_concurrent_runs: 4 } })
  const lifeDirs: string[] = []
  const items: Item[] = []
  /** Journal keys whose done mark (= start recorded, for these items) was on disk at a kill. */
  const started = new Set<string>()
  let hookToken = ''
  let lastPid: number | undefined
  let updateId = 9000
  let oldPids: number[] = []
  let current: Spawned | undefined

  for (let round = 0; round <= MOMENTS.length; round++) {
    const moment: Moment | undefined = MOMENTS[round]
    const dir = join(home, `runs-${round}`)
    await mkdir(dir)
    lifeDirs.push(dir)
    const endedFile = join(home, `ended-${round}`)
    const served = current = await spawnService(t, { DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home, FAKE_CLI_RECORD_DIR: dir, FAKE_CLI_ENDED: endedFile, FAKE_CLI_DELAY_MS: '120' }, { supervisor: true })
    const t0 = Date.now()
    const info = await serviceUp(home, lastPid)
    const tUp = Date.now()
    lastPid = info.pid
    const url = info.url
    const adminUrl = info.admin_url ?? ''
    // The killed life's CLIs (their own process groups: the group kill did not reach them) were ended
    // by this start before it replayed anything.
    assert.deepEqual(oldPids.filter((pid) => alive(pid)), [], `no CLI of the killed life is alive once the next one answers (round ${round})`)

    if (round === 0) {
      const created = await fetch(`${adminUrl}/api/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'job', title: 'Job', mode: 'cron_task', task_folder: 'job', prompt_template: 'Job {{marker}}', quiet_start: 0, quiet_end: 0, dedupe_header: 'X-Delivery' }) })
      const body = await created.json() as { token: string }
      assert.equal(created.status, 201, JSON.stringify(body))
      hookToken = body.token
    }
    // The senders deliver again what they got no 2xx for.
    await Promise.all(items.filter((i) => !i.acked && i.send !== undefined).map(async (i) => {
      await waitFor(async () => {
        const status = await (i.send as (u: string) => Promise<number>)(url)
        return status >= 200 && status < 300 ? true : undefined
      }, 20_000, `${i.marker} to be acknowledged`)
      i.acked = true
    }))
    const tAgain = Date.now()

    if (moment === undefined) {
      // The last life: no kill; everything acknowledged and not cut off runs here.
      const activeRuns = async (): Promise<number> => await fetch(`${adminUrl}/api/runs/active`, { headers: admin }).then(async (r) => (await r.json() as { runs: unknown[] }).runs.length, () => 1)
      const settled = async (): Promise<boolean> => {
        if (await activeRuns() > 0) return false
        const runs = await runsOf(lifeDirs)
        return items.every((i) => !i.acked || i.ingress === 'api' || countOf(runs, i.marker) > 0 || started.has(i.key ?? ''))
      }
      await waitFor(async () => await settled() ? true : undefined, 60_000, 'every acknowledged item to run').catch((err: Error) => { throw new Error(`${err.message}\n${served.output().slice(-4000)}`) })
      break
    }

    // This round's items, sent together.
    const batch: Item[] = []
    const requests: Array<{ item: Item, req: ReturnType<typeof chatRequest> }> = []
    for (const chat of CHATS) {
      const marker = `m-${round}-tg-${chat}`
      const update = textUpdate(updateId, chat, `please answer ${marker}`)
      batch.push({ ingress: 'telegram', marker, chat: String(chat), key: `telegram:${updateId++}`, acked: false, send: async (u) => (await postUpdate(u, update)).status })
    }
    for (let n = 0; n < HOOKS_PER_ROUND; n++) {
      const marker = `m-${round}-wh-${n}`
      batch.push({
        ingress: 'webhook',
        marker,
        chat: 'job',
        key: `webhook:job:${marker}`,
        acked: false,
        send: async (u) => await fetch(`${u}/hooks/job`, { method: 'POST', headers: { authorization: `Bearer ${hookToken}`, 'content-type': 'application/json', 'x-delivery': marker }, body: JSON.stringify({ marker }), signal: AbortSignal.timeout(15_000) }).then((r) => r.status, () => 0)
      })
    }
    for (const chat of API_CHATS) {
      const item: Item = { ingress: 'api', marker: `m-${round}-api-${chat}`, chat, acked: false }
      batch.push(item)
      requests.push({ item, req: chatRequest(adminUrl, chat, `please answer ${item.marker}`) })
    }
    items.push(...batch)
    let killed = false
    const sent = Promise.all(batch.filter((i) => i.send !== undefined).map(async (i) => {
      const status = await (i.send as (u: string) => Promise<number>)(url)
      if (!killed && status >= 200 && status < 300) i.acked = true
    }))
    const seenRunning = (): void => {
      for (const { item, req } of requests) {
        const running = req.events.find((e) => e.event === 'status' && e.data?.status === 'running')
        if (running !== undefined) { item.acked = true; item.runId = running.data.run_id as string }
      }
    }
    const ready: Record<Moment, () => boolean> = {
      'before-spawn': () => batch.every((i) => i.ingress === 'api' || i.acked),
      'after-spawn': () => recordedPids(home).length > 0,
      'mid-stream': () => requests.some(({ req }) => req.events.some((e) => e.event === 'text')),
      'result-line': () => existsSync(endedFile)
    }
    await waitFor(() => { seenRunning(); return ready[moment]() ? true : undefined }, 30_000, `the moment ${moment}`)
    // What the client has seen by now is what it holds (a later event never reaches it).
    seenRunning()
    killed = true
    killTree(served.child)
    await served.exited
    await sent
    await Promise.all(requests.map(async ({ req }) => await req.ended))
    for (const key of doneKeys(home)) started.add(key)
    oldPids = [...new Set([...recordedPids(home), ...(await runsOf([dir])).map((r) => r.pid)])]
    t.diagnostic(`up ${tUp - t0} ms, delivered again ${tAgain - tUp} ms, round ${Date.now() - tAgain} ms`)
    t.diagnostic(`${moment}: acknowledged ${batch.filter((i) => i.acked).length}/${batch.length}, CLI processes alive after the kill ${oldPids.filter((pid) => alive(pid)).length}`)
  }

  // The final life is still up: read its view of the runs, then stop it.
  const info = await serviceUp(home)
  // GET /api/runs/:id answers the run record itself (routes/admin/runs.ts), or an error body.
  const runRecord = async (id: string): Promise<{ status: string }> => {
    const res = await fetch(`${info.admin_url ?? ''}/api/runs/${id}`, { headers: admin })
    const body = await res.json() as { status?: string }
    return { status: res.ok ? body.status ?? 'no status' : `HTTP ${res.status}` }
  }
  const interruptedWebhookRuns = (await (await fetch(`${info.admin_url ?? ''}/api/runs?kind=webhook&limit=200`, { headers: admin })).json() as { runs: Array<{ status: string }> }).runs.filter((r) => r.status === 'error:interrupted').length
  const runs = await runsOf(lifeDirs)
  const problems: string[] = []
  const cutOff: string[] = []
  for (const i of items) {
    const count = countOf(runs, i.marker)
    if (count > 1) problems.push(`${i.marker} reached the model ${count} times`)
    if (!i.acked || count === 1) continue
    // Acknowledged and never reached the model: only a run the kill cut off after its start was recorded.
    if (i.ingress === 'api') {
      const status = i.runId === undefined ? 'no run id' : (await runRecord(i.runId)).status
      if (status !== 'error:interrupted') problems.push(`${i.marker} (chat API run ${i.runId ?? '?'}) never reached the model and is ${status}`)
    } else if (!started.has(i.key ?? '')) {
      problems.push(`${i.marker} was acknowledged, never started and never reached the model`)
    } else if (i.ingress === 'telegram' && !fake.messages(Number(i.chat)).some((m) => /ductor restarted while your last message/.test(m.text))) {
      problems.push(`${i.marker} was cut off and chat ${i.chat} was not told`)
    }
    cutOff.push(i.marker)
  }
  const webhookCutOffs = cutOff.filter((m) => m.includes('-wh-')).length
  if (webhookCutOffs > interruptedWebhookRuns) problems.push(`${webhookCutOffs} webhook deliveries were cut off, but only ${interruptedWebhookRuns} runs are error:interrupted`)

  const last = current as Spawned
  process.kill(-(last.child.pid as number), 'SIGTERM')
  assert.equal(await last.exited, 0, last.output().slice(-3000))
  assert.deepEqual(problems, [])
  assert.deepEqual(survivors(home), [], 'no process of the home is left')
  const journal = await createJournal({ path: join(home, 'state', 'inbox.jsonl') })
  assert.deepEqual(journal.pending(), [], 'nothing is left to replay')
  await journal.close()
  t.diagnostic(`${items.length} items, ${items.filter((i) => i.acked).length} acknowledged, ${cutOff.length} cut off by a kill between their recorded start and their CLI's first request: ${cutOff.join(' ')}`)
})

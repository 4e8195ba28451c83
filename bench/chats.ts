// P5: many chats streaming at once. The compiled service (its event loop watched by
// lib/loop-monitor.mjs) runs fake `claude` CLIs (test/fakes) that stream a 120-delta reply, one
// line every 20 ms; this process sends one message per chat to POST /api/chats/:id/messages with
// Accept: text/event-stream and reads every SSE stream to its `result`. A reply is complete when
// its streamed text and its result both equal the transcript's text.
// Baseline ("the CLI path" without ductor): a bare node process, watched the same way, that spawns
// the same fake CLIs with the same transcript and only reads their stdout.
// Run alone: node --import tsx bench/chats.ts
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { loadavg, setPriority } from 'node:os'
import { join } from 'node:path'
import { createFakeBin } from '../test/fakes/fake-bin.ts'
import { askLoop, LOOP_MONITOR, type LoopDelay } from './lib/loop-client.ts'
import { claudeTranscript } from './lib/transcript.ts'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { buildPackage, startService, tempHome, type BuiltPackage } from './lib/service.ts'

const CHAT_COUNTS = (process.env['BENCH_CHATS'] ?? '10,50,100').split(',').map(Number)
const TARGET_CHATS = 50
const DELTAS = 100
const DELAY_MS = 20
const TOKEN = 'bench-admin-token-0123456789abcdef'
/**
 * BENCH_NICE=-10 (as root): the measured processes (the service, the bare node, the idle node) run at
 * that priority, their CLIs at nice 10 as the service's always do, so that other work on a shared
 * machine weighs less on the figure. Off by default; a run that uses it says so.
 */
const NICE = process.env['BENCH_NICE'] === undefined || process.env['BENCH_NICE'] === '' ? null : Number(process.env['BENCH_NICE'])

/**
 * Each measured process (the service, the bare node, the idle node) leads a session of its own, as a
 * service started from its own terminal or unit does: with Linux's scheduler autogroups a session is
 * weighed as one, and sharing this process's session would weigh the measured loops down with the
 * benchmark's own 50 SSE clients (ADR 0038). BENCH_SESSION=shared keeps them in this session (as
 * before 2026-12-03, 19:00).
 */
const OWN_SESSION = process.env['BENCH_SESSION'] !== 'shared'

function renice (pid: number | undefined): void {
  if (NICE !== null && pid !== undefined) setPriority(pid, NICE)
}

interface ChatOutcome { complete: boolean, ms: number }

/** One SSE request; complete when the streamed text and the result's reply are the expected text. */
async function chat (url: string, chatId: string, expected: string): Promise<ChatOutcome> {
  const started = performance.now()
  const res = await fetch(`${url}/api/chats/${chatId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ text: `benchmark message for chat ${chatId}` })
  })
  const body = await res.text()
  let streamed = ''
  let reply: string | null = null
  let status: string | null = null
  for (const block of body.split('\n\n')) {
    const event = /^event: (.*)$/m.exec(block)?.[1]
    const data = /^data: (.*)$/m.exec(block)?.[1]
    if (event === undefined || data === undefined) continue
    const parsed = JSON.parse(data) as { text?: string, reply?: string, status?: string }
    if (event === 'text') streamed += parsed.text ?? ''
    if (event === 'result') { reply = parsed.reply ?? null; status = parsed.status ?? null }
  }
  return { complete: res.status === 200 && status === 'success' && reply === expected && streamed === expected, ms: performance.now() - started }
}

interface Round { chats: number, loop: LoopDelay, complete: number, wallMs: number, spawnMedianMs?: number, spawnMaxMs?: number, idle?: LoopDelay }

/**
 * An idle node with the same monitor, watched over the same seconds as the service: its loop does
 * nothing, so its delay is what the machine itself (other processes, the CLIs) imposes on any loop.
 */
async function startIdleNode (): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', LOOP_MONITOR, '-e', 'setInterval(() => {}, 1 << 30)'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: OWN_SESSION })
  renice(child.pid)
  await new Promise((resolve) => setTimeout(resolve, 300))
  return child
}

async function serviceRound (chats: number, fake: { claude: string, transcriptPath: string, text: string }, pkg: BuiltPackage): Promise<Round> {
  const { home, cleanup } = await tempHome({
    'config/config.json': { provider: 'claude', model: 'sonnet', admin: { token: TOKEN }, limits: { max_concurrent_runs: 128 }, cli_paths: { claude: fake.claude } }
  })
  try {
    const service = await startService({
      pkg,
      home,
      nodeArgs: ['--import', LOOP_MONITOR],
      ipc: true,
      ownSession: OWN_SESSION,
      env: { FAKE_CLI_TRANSCRIPT: fake.transcriptPath, FAKE_CLI_DELAY_MS: String(DELAY_MS) }
    })
    renice(service.child.pid)
    try {
      await new Promise((resolve) => setTimeout(resolve, 500))
      // One chat first: what the first message of a service's life does once (compile the route's
      // validator, start the CLI spawner) is not what 50 chats starting at once cost.
      if (!(await chat(service.adminUrl ?? '', '999', fake.text)).complete) throw new Error('the warm-up chat did not complete')
      const idle = await startIdleNode()
      try {
        await Promise.all([askLoop(service.child, 'reset'), askLoop(idle, 'reset')])
        const started = performance.now()
        const outcomes = await Promise.all(Array.from({ length: chats }, (_, i) => chat(service.adminUrl ?? '', String(1000 + i), fake.text)))
        const wallMs = performance.now() - started
        const [loop, idleLoop] = await Promise.all([askLoop(service.child, 'read'), askLoop(idle, 'read')])
        return { chats, loop, complete: outcomes.filter((o) => o.complete).length, wallMs, idle: idleLoop }
      } finally {
        idle.kill()
      }
    } finally {
      await service.stop()
    }
  } finally {
    await cleanup()
  }
}

// One spawn per turn of the event loop, as the service's spawns come (one per request it reads), so
// the loop-delay histogram sees each spawn's stall on its own; the time each spawn() call blocks is
// reported too (it waits for the child to exec, which on a busy machine waits for a core).
const BASELINE = `
const { spawn } = require('node:child_process')
setInterval(() => {}, 1 << 30)
const [claude, n] = process.argv.slice(1)
process.on('message', async (m) => {
  if (m !== 'go') return
  const started = performance.now()
  const blocked = []
  const closed = []
  for (let i = 0; i < Number(n); i++) {
    const t = performance.now()
    const child = spawn(claude, ['-p', '--output-format', 'stream-json', '--verbose', '--', 'hi'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true })
    blocked.push(performance.now() - t)
    try { require('node:os').setPriority(child.pid, 10) } catch {}
    child.stdout.on('data', () => {})
    closed.push(new Promise((resolve) => child.on('close', resolve)))
    await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(closed)
  blocked.sort((a, b) => a - b)
  process.send({ done: performance.now() - started, spawnMedian: blocked[Math.floor(blocked.length / 2)], spawnMax: blocked[blocked.length - 1] })
})
`

async function baselineRound (chats: number, fake: { claude: string, transcriptPath: string }): Promise<Round> {
  const child = spawn(process.execPath, ['--import', LOOP_MONITOR, '-e', BASELINE, fake.claude, String(chats)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    detached: OWN_SESSION,
    env: { ...process.env, IS_SANDBOX: '1', FAKE_CLI_TRANSCRIPT: fake.transcriptPath, FAKE_CLI_DELAY_MS: String(DELAY_MS) }
  })
  renice(child.pid)
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    await askLoop(child, 'reset')
    const done = await new Promise<{ done: number, spawnMedian: number, spawnMax: number }>((resolve) => {
      child.on('message', (m: { done?: number, spawnMedian: number, spawnMax: number }) => { if (m.done !== undefined) resolve(m as { done: number, spawnMedian: number, spawnMax: number }) })
      child.send('go')
    })
    const loop = await askLoop(child, 'read')
    return { chats, loop, complete: chats, wallMs: done.done, spawnMedianMs: done.spawnMedian, spawnMaxMs: done.spawnMax }
  } finally {
    child.kill()
  }
}

export async function benchChats (): Promise<BenchResult> {
  const result = emptyResult()
  const bin = await createFakeBin()
  const dir = bin.dir
  const { lines, text } = claudeTranscript(DELTAS, DELAY_MS)
  const transcriptPath = join(dir, 'bench-transcript.jsonl')
  await writeFile(transcriptPath, lines)
  const fake = { claude: bin.claude, transcriptPath, text }
  const rounds: Array<{ service: Round, bare: Round }> = []
  const pkg = await buildPackage()
  try {
    for (const chats of CHAT_COUNTS) {
      const bare = await baselineRound(chats, fake)
      const service = await serviceRound(chats, fake, pkg)
      rounds.push({ service, bare })
      const split = (l: LoopDelay | undefined): string => l === undefined ? '?' : `main thread on CPU ${l.cpuMs?.toFixed(0) ?? '?'} ms, waiting for a CPU ${l.waitMs?.toFixed(0) ?? '?'} ms, process CPU ${l.processCpuMs.toFixed(0)} ms`
      progress(`${chats} chats: service ${split(service.loop)}; idle node ${split(service.idle)}; bare ${split(bare.loop)}; load ${loadavg()[0]?.toFixed(1) ?? '?'}`)
      progress(`${chats} chats: loop p99 ${service.loop.p99.toFixed(1)} ms (idle node meanwhile ${service.idle?.p99.toFixed(1) ?? '?'} ms; bare CLI path ${bare.loop.p99.toFixed(1)} ms, its spawn() blocks ${bare.spawnMedianMs?.toFixed(1) ?? '?'} ms median), ${service.complete}/${chats} complete, ${service.wallMs.toFixed(0)} ms (bare ${bare.wallMs.toFixed(0)} ms)`)
    }
  } finally {
    await bin.cleanup()
    await pkg.cleanup()
  }
  const at = rounds.find((r) => r.service.chats === TARGET_CHATS) ?? rounds[0]
  if (at !== undefined) {
    result.rows.push({
      id: 'P5',
      what: `${TARGET_CHATS} chats streaming: event-loop delay p99`,
      value: at.service.loop.p99,
      unit: 'ms',
      target: '≤ 20 ms',
      ok: at.service.loop.p99 <= 20,
      baseline: { label: 'bare node reading the same CLIs', value: at.bare.loop.p99 },
      ratio: at.service.loop.p99 / at.bare.loop.p99
    }, {
      id: 'P5',
      what: `(the machine's floor) an idle node's loop delay p99 during the ${TARGET_CHATS} chats`,
      value: at.service.idle?.p99 ?? NaN,
      unit: 'ms',
      target: '(context for P5)',
      ok: null,
      baseline: { label: 'P5 p99', value: at.service.loop.p99 },
      ratio: (at.service.idle?.p99 ?? NaN) / at.service.loop.p99
    }, {
      id: 'P5',
      what: `${TARGET_CHATS} chats streaming: replies complete`,
      value: at.service.complete,
      unit: `of ${TARGET_CHATS}`,
      target: 'every reply complete',
      ok: at.service.complete === TARGET_CHATS,
      baseline: { label: 'wall time vs bare', value: at.bare.wallMs, unit: 'ms' },
      ratio: at.service.wallMs / at.bare.wallMs,
      note: `${at.service.wallMs.toFixed(0)} ms`
    })
  }
  if (!OWN_SESSION) result.notes.push('P5: the service, the bare node and the idle node shared the benchmark\'s session (BENCH_SESSION=shared).')
  if (NICE !== null) result.notes.push(`P5: the service, the bare node and the idle node ran at nice ${NICE} (BENCH_NICE), their CLIs at nice 10.`)
  result.growth.push({
    title: `P5 cost growth: chats streaming at once (${DELTAS} text deltas per reply, one every ${DELAY_MS} ms; loop delay in the service vs a bare node reading the same CLIs${NICE === null ? '' : `; measured processes at nice ${NICE}`})`,
    columns: ['chats', 'loop p50 ms', 'loop p99 ms', 'loop max ms', 'main thread on CPU ms', 'main thread waiting for a CPU ms', 'idle node p99 ms', 'idle node waiting ms', 'bare p99 ms', 'bare max ms', 'bare spawn() blocks, median ms', 'bare spawn() max ms', 'complete', 'wall ms', 'bare wall ms'],
    rows: rounds.map(({ service, bare }) => [service.chats, service.loop.p50, service.loop.p99, service.loop.max, service.loop.cpuMs ?? '–', service.loop.waitMs ?? '–', service.idle?.p99 ?? '–', service.idle?.waitMs ?? '–', bare.loop.p99, bare.loop.max, bare.spawnMedianMs ?? '–', bare.spawnMaxMs ?? '–', `${service.complete}/${service.chats}`, service.wallMs, bare.wallMs])
  })
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchChats())

// P1: POST /hooks/:id on the compiled service: HMAC-SHA256 verified (generic `hmac` auth over the
// raw body), journaled in the inbox with fsync (group commit) before the 202, 2 KB JSON body. Load
// from a second process (wrk when installed, else autocannon; bench/lib/load.ts) at 1 / 8 / 32 / 128 connections; the baseline is a bare
// node:http server answering 202 to the same requests, measured in the same run. One hook per
// connection level (the per-hook rate limit is set to its allowed maximum, 100,000 a minute; it
// still runs). Deliveries go to a `wake` hook with no allowed users, so dispatch does no CLI work.
// F3/F4 keep the baselines (a bare node:http that answers without touching the disk, the
// disk's own fdatasync p99); next to them, the durable floor: a bare node:http that appends each
// body and answers only after a group-committed fdatasync (bench/lib/bare-durable.mjs), which shows
// how close the route is to what the disk and the protocol allow in the same run.
// F4's fixed-rate rows (context, ADR 0048): the same route and the durable floor at 1,000 and 4,000
// req/s from an open-loop generator (bench/lib/open-loop.ts), latency from each request's scheduled
// time: the p99 of a server well under its capacity, where the closed-loop rows measure a queue.
// Run alone: node --import tsx bench/hooks.ts
import { createHmac } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createJournal } from '../src/store/journal.ts'
import { LOAD_GENERATOR, load, type LoadResult } from './lib/load.ts'
import { openLoop, type OpenLoopResult } from './lib/open-loop.ts'
import { loadavg } from 'node:os'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { buildPackage, startBareDurable, startBareFastify, startBareServer, startService, tempHome } from './lib/service.ts'

const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] ?? '1,8,32,128').split(',').map(Number)
const TARGET_CONNECTIONS = 32
const SECONDS = 3
/** F4's fixed rates (open loop), requests per second; BENCH_RATES='' skips them. */
const RATES = (process.env['BENCH_RATES'] ?? '1000,4000').split(',').filter((r) => r.trim() !== '').map(Number)
const RATE_SECONDS = 4
const TOKEN = 'bench-admin-token-0123456789abcdef'
const SECRET = 'bench-hmac-secret-0123456789abcdef'

function body2k (): string {
  const base = { action: 'opened', repository: { full_name: 'ductor/bench' }, pull_request: { title: 'A benchmark delivery', body: '' } }
  const fill = 2048 - JSON.stringify(base).length
  base.pull_request.body = 'x'.repeat(fill)
  return JSON.stringify(base)
}

/** The disk's ceiling for durable acceptance: the inbox journal alone, `appenders` at once, 2 KB each. */
async function journalAlone (appenders: number, seconds: number): Promise<number> {
  const { home, cleanup } = await tempHome()
  try {
    const journal = await createJournal({ path: join(home, 'inbox.jsonl') })
    const payload = { text: 'x'.repeat(2000) }
    const end = performance.now() + seconds * 1000
    let n = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: appenders }, async () => {
      while (performance.now() < end) {
        const { seq } = await journal.append({ kind: 'webhook', key: String(n++), payload })
        journal.markFinished(seq)
      }
    }))
    const elapsed = (performance.now() - started) / 1000
    await journal.close()
    return n / elapsed
  } finally {
    await cleanup()
  }
}

/** The disk's own durable-write latency: a 2 KB append then fdatasync, one at a time, in a temp dir. */
async function fdatasyncLatency (times: number, kb: number): Promise<{ p50: number, p99: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-bench-fsync-'))
  const file = await open(join(dir, 'fsync.log'), 'a')
  const line = Buffer.alloc(kb * 1024, 'x')
  const ms: number[] = []
  try {
    for (let i = 0; i < times; i++) {
      const started = process.hrtime.bigint()
      await file.write(line)
      await file.datasync()
      ms.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
  } finally {
    await file.close()
    await rm(dir, { recursive: true, force: true })
  }
  ms.sort((a, b) => a - b)
  return { p50: ms[Math.floor(times * 0.5)] ?? NaN, p99: ms[Math.floor(times * 0.99)] ?? NaN }
}

export async function benchHooks (): Promise<BenchResult> {
  const result = emptyResult()
  const body = body2k()
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`
  const headers = { 'content-type': 'application/json', 'x-signature': signature }
  const figures: Array<{ c: number, service: LoadResult, bare: LoadResult, fastify: LoadResult, durable: LoadResult, load: number }> = []
  const fixed: Array<{ rate: number, service: OpenLoopResult, durable: OpenLoopResult, load: number }> = []
  const pkg = await buildPackage()
  const { home, cleanup } = await tempHome({
    'config/config.json': { admin: { token: TOKEN }, webhooks: { enabled: true, rate_limit_per_minute: 100_000 }, log_level: 'WARNING' }
  })
  try {
    const bare = await startBareServer({ status: 202 })
    const bareFastify = await startBareFastify()
    const bareDurable = await startBareDurable(join(home, 'bare-durable.jsonl'))
    const service = await startService({ pkg, home })
    try {
      for (const c of [...CONNECTIONS, ...RATES.map((r) => `r${r}`)]) {
        const res = await fetch(`${service.adminUrl ?? ''}/api/webhooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id: `bench-${c}`, title: `bench ${c}`, mode: 'wake', prompt_template: 'Event: {{action}}', auth_mode: 'hmac', hmac_secret: SECRET, hmac_header: 'X-Signature', hmac_algorithm: 'sha256', hmac_encoding: 'hex', hmac_sig_prefix: 'sha256=' })
        })
        if (res.status !== 201 && res.status !== 200) throw new Error(`creating the hook: ${res.status} ${await res.text()}`)
        const check = await fetch(`${service.url}/hooks/bench-${c}`, { method: 'POST', headers, body })
        if (check.status !== 202) throw new Error(`a signed delivery was not accepted: ${check.status} ${await check.text()}`)
      }
      for (const c of CONNECTIONS) {
        const b = await load({ pid: bare.child.pid, url: bare.url, connections: c, seconds: SECONDS, headers, body })
        const f = await load({ pid: bareFastify.child.pid, url: `${bareFastify.url}/hooks/bench-${c}`, connections: c, seconds: SECONDS, headers, body })
        const d = await load({ pid: bareDurable.child.pid, url: `${bareDurable.url}/hooks/bench-${c}`, connections: c, seconds: SECONDS, headers, body })
        const s = await load({ pid: service.child.pid, url: `${service.url}/hooks/bench-${c}`, connections: c, seconds: SECONDS, headers, body })
        figures.push({ c, service: s, bare: b, fastify: f, durable: d, load: loadavg()[0] ?? Number.NaN })
        progress(`${c} connections (${LOAD_GENERATOR}, load average ${loadavg()[0]?.toFixed(2) ?? '?'}): ${s.rps.toFixed(0)} req/s p99 ${s.p99} ms (${s.non2xx} non-2xx, ${s.errors} errors); bare ${b.rps.toFixed(0)} req/s p99 ${b.p99} ms; bare Fastify ${f.rps.toFixed(0)} req/s p99 ${f.p99} ms; bare durable ${d.rps.toFixed(0)} req/s p99 ${d.p99} ms`)
      }
      // F4 at fixed rates (open loop): the durable floor and the route in turn, each after a second's
      // warm-up at the same rate (connections opened, code paths hot); one hook per rate.
      for (const rate of RATES) {
        const at = async (url: string, pid: number | undefined): Promise<OpenLoopResult> => {
          await openLoop({ url, rate, seconds: 1, headers, body })
          return await openLoop({ url, rate, seconds: RATE_SECONDS, headers, body, ...(pid !== undefined && { pid }) })
        }
        const d = await at(`${bareDurable.url}/hooks/bench-r${rate}`, bareDurable.child.pid)
        const s = await at(`${service.url}/hooks/bench-r${rate}`, service.child.pid)
        fixed.push({ rate, service: s, durable: d, load: loadavg()[0] ?? Number.NaN })
        progress(`${rate} req/s fixed rate (open loop, load average ${loadavg()[0]?.toFixed(2) ?? '?'}): p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms (${s.non2xx} non-2xx, ${s.errors} errors); durable floor p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms; the generator's send lag p99 ${s.sendLagP99.toFixed(2)} / ${d.sendLagP99.toFixed(2)} ms`)
      }
    } finally {
      await service.stop()
      await bareDurable.stop()
      await bareFastify.stop()
      await bare.stop()
    }
  } finally {
    await cleanup()
    await pkg.cleanup()
  }
  const ceiling = await journalAlone(TARGET_CONNECTIONS, 2)
  const disk = await fdatasyncLatency(500, 2)
  progress(`the disk's own fdatasync (2 KB append + fdatasync, one at a time, 500 times): p50 ${disk.p50.toFixed(2)} ms, p99 ${disk.p99.toFixed(2)} ms`)
  progress(`journal alone, ${TARGET_CONNECTIONS} appenders: ${ceiling.toFixed(0)} appends/s`)
  const at = figures.find((f) => f.c === TARGET_CONNECTIONS)
  if (at !== undefined) {
    const share = at.service.rps / at.bare.rps
    result.rows.push({
      id: 'F3',
      what: `POST /hooks/:id, HMAC + journal, ${TARGET_CONNECTIONS} conns, 2 KB: req/s`,
      value: at.service.rps,
      unit: 'req/s',
      target: '≥ 40 % of bare node:http',
      ok: share >= 0.4 && at.service.non2xx === 0 && at.service.errors === 0,
      baseline: { label: 'bare node:http 202', value: at.bare.rps },
      ratio: share,
      note: `${at.service.non2xx} non-2xx`
    }, {
      id: 'F3',
      what: '(the durable floor) the same, against a bare node:http that fdatasyncs each body (group commit) before its 202',
      value: at.service.rps,
      unit: 'req/s',
      target: '(context for F3)',
      ok: null,
      baseline: { label: 'bare node:http, durable 202', value: at.durable.rps },
      ratio: at.service.rps / at.durable.rps
    }, {
      id: 'P1',
      what: `POST /hooks/:id, ${TARGET_CONNECTIONS} conns: latency p99`,
      value: at.service.p99,
      unit: 'ms',
      target: '≤ 5 ms',
      ok: at.service.p99 <= 5,
      baseline: { label: 'bare node:http 202', value: at.bare.p99 },
      ratio: at.service.p99 / Math.max(1, at.bare.p99)
    }, {
      id: 'P1',
      what: `(the framework's ceiling) bare Fastify, same body parser, ${TARGET_CONNECTIONS} conns: req/s`,
      value: at.fastify.rps,
      unit: 'req/s',
      target: '(context for P1)',
      ok: null,
      baseline: { label: 'bare node:http 202', value: at.bare.rps, unit: 'req/s' },
      ratio: at.fastify.rps / at.bare.rps
    }, {
      id: 'F4',
      what: `POST /hooks/:id, ${TARGET_CONNECTIONS} conns: p99 vs the disk's own fdatasync p99`,
      value: at.service.p99,
      unit: 'ms',
      target: '≤ 1.5× fdatasync p99',
      ok: at.service.p99 <= 1.5 * disk.p99,
      baseline: { label: 'fdatasync of a 2 KB append, p99', value: disk.p99 },
      ratio: at.service.p99 / disk.p99
    }, {
      id: 'F4',
      what: `(the durable floor) POST /hooks/:id, ${TARGET_CONNECTIONS} conns: p99 vs a bare node:http that fdatasyncs each body (group commit)`,
      value: at.service.p99,
      unit: 'ms',
      target: '(context for F4)',
      ok: null,
      baseline: { label: 'bare node:http, durable 202, p99', value: at.durable.p99 },
      ratio: at.service.p99 / at.durable.p99
    }, ...fixed.flatMap((f): typeof result.rows => [{
      id: 'F4',
      what: `(well under capacity) POST /hooks/:id at a fixed ${f.rate.toLocaleString('en-US')} req/s (open loop, from the scheduled time): p99 vs the disk's own fdatasync p99`,
      value: f.service.p99,
      unit: 'ms',
      target: '(context for F4)',
      ok: null,
      baseline: { label: 'fdatasync of a 2 KB append, p99', value: disk.p99 },
      ratio: f.service.p99 / disk.p99
    }, {
      id: 'F4',
      what: `(well under capacity) the same at ${f.rate.toLocaleString('en-US')} req/s: p99 vs the durable floor at the same rate`,
      value: f.service.p99,
      unit: 'ms',
      target: '(context for F4)',
      ok: null,
      baseline: { label: 'bare node:http, durable 202, p99', value: f.durable.p99 },
      ratio: f.service.p99 / f.durable.p99
    }]), {
      id: 'F2',
      what: `CPU per delivery in the service (user + system), ${TARGET_CONNECTIONS} conns`,
      value: at.service.cpuUsPerRequest ?? Number.NaN,
      unit: 'µs',
      target: '≤ 100 µs',
      ok: (at.service.cpuUsPerRequest ?? Number.POSITIVE_INFINITY) <= 100,
      baseline: { label: 'bare Fastify', value: at.fastify.cpuUsPerRequest ?? Number.NaN, unit: 'µs' },
      ratio: (at.service.cpuUsPerRequest ?? Number.NaN) / (at.fastify.cpuUsPerRequest ?? Number.NaN)
    }, {
      id: 'P1',
      what: `(the disk's ceiling) inbox journal alone, ${TARGET_CONNECTIONS} appenders, 2 KB`,
      value: ceiling,
      unit: 'appends/s',
      target: '(context for P1)',
      ok: null,
      baseline: { label: 'P1 req/s', value: at.service.rps, unit: 'req/s' },
      ratio: ceiling / at.service.rps
    })
  }
  result.growth.push({
    title: `P1 cost growth: POST /hooks/:id by connections (${SECONDS} s each, load from ${LOAD_GENERATOR}${LOAD_GENERATOR === 'autocannon' ? ', whose latencies are whole ms' : ''}; load = the machine's 1-minute load average after the level)`,
    columns: ['connections', 'load', 'req/s', 'bare req/s', 'share of bare', 'bare Fastify req/s', 'share of bare Fastify', 'p50 ms', 'p99 ms', 'bare p99 ms', 'bare Fastify p99 ms', 'CPU µs/req', 'of it kernel', 'bare CPU µs/req', 'bare Fastify CPU µs/req', 'durable floor req/s', 'durable floor p99 ms', 'durable floor CPU µs/req', 'non-2xx'],
    rows: figures.map((f) => [f.c, f.load.toFixed(1), f.service.rps, f.bare.rps, `${(100 * f.service.rps / f.bare.rps).toFixed(0)} %`, f.fastify.rps, `${(100 * f.service.rps / f.fastify.rps).toFixed(0)} %`, f.service.p50, f.service.p99, f.bare.p99, f.fastify.p99, f.service.cpuUsPerRequest ?? '–', f.service.sysUsPerRequest ?? '–', f.bare.cpuUsPerRequest ?? '–', f.fastify.cpuUsPerRequest ?? '–', f.durable.rps, f.durable.p99, f.durable.cpuUsPerRequest ?? '–', f.service.non2xx])
  })
  if (fixed.length > 0) {
    result.growth.push({
      title: `F4 context: POST /hooks/:id at fixed rates (open loop, ${RATE_SECONDS} s each after a 1 s warm-up; latency from each request's scheduled time, ms; the disk's own fdatasync p99 ${disk.p99.toFixed(3)} ms in the same run; send lag = how late the generator sent, inside every latency; load = the 1-minute load average after the rate)`,
      columns: ['req/s', 'load', 'p50', 'p99', 'max', 'durable floor p50', 'durable floor p99', 'durable floor max', 'p99 / fdatasync p99', 'p99 / floor p99', 'CPU µs/req', 'durable floor CPU µs/req', 'send lag p99', 'non-2xx + errors'],
      rows: fixed.map((f) => [f.rate, f.load.toFixed(1), f.service.p50, f.service.p99, f.service.max, f.durable.p50, f.durable.p99, f.durable.max, `${(f.service.p99 / disk.p99).toFixed(1)}×`, `${(f.service.p99 / f.durable.p99).toFixed(2)}×`, f.service.cpuUsPerRequest ?? '–', f.durable.cpuUsPerRequest ?? '–', Math.max(f.service.sendLagP99, f.durable.sendLagP99), f.service.non2xx + f.service.errors])
    })
  }
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchHooks())

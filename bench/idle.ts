// P4: the idle service, compiled, on an empty home: resident memory and start → first /health 200,
// next to a bare `node -e` node:http server started and polled the same way (the floor: Node's own
// start-up and memory). Run alone: node --import tsx bench/idle.ts
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { buildPackage, childPid, descendants, memorySplit, ROOT, rssMb, startBareServer, startService, tempHome } from './lib/service.ts'
import { median } from './lib/stats.ts'

const RUNS = 3
/** How long the service sits idle before its RSS is read (timers, automation first tick, GC). */
const SETTLE_MS = 1000

/** What the service's big dependencies cost alone: CPU ms and RSS after importing them in a fresh node. */
const IMPORTS = ['typebox', 'typebox/value', 'typebox/compile', 'fastify', '@fastify/swagger', 'execa', 'cron-parser', 'pino', 'pino-pretty']

async function importCost (specifier: string | null): Promise<{ cpuMs: number, rssMb: number }> {
  const code = `const c = process.cpuUsage(); ${specifier === null ? '' : `await import(${JSON.stringify(specifier)});`} const u = process.cpuUsage(c); console.log(JSON.stringify({ cpuMs: (u.user + u.system) / 1000, rssMb: process.memoryUsage().rss / 1048576 }))`
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT })
  return JSON.parse(stdout) as { cpuMs: number, rssMb: number }
}

/**
 * What a group of processes costs the machine: each one's private pages, plus the shared pages once
 * (the largest shared set: the service's holds the node binary the supervisor maps too). RSS, which
 * F1 sums as the issue asks, counts the node binary's ~36–48 MB again in every process. NaN when
 * smaps_rollup is not readable (not Linux).
 */
function paidMb (splits: ReadonlyArray<{ private: number, shared: number } | undefined>): number {
  if (splits.some((s) => s === undefined)) return NaN
  const known = splits as ReadonlyArray<{ private: number, shared: number }>
  return known.reduce((sum, s) => sum + s.private, 0) + Math.max(0, ...known.map((s) => s.shared))
}

export async function benchIdle (): Promise<BenchResult> {
  const result = emptyResult()
  const pkg = await buildPackage()
  try {
    const service = { start: [] as number[], rss: [] as number[] }
    const bare = { start: [] as number[], rss: [] as number[] }
    const supervised = { supervisor: [] as number[], service: [] as number[], others: [] as number[], processes: [] as number[], total: [] as number[], paid: [] as number[] }
    const barePaid: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const b = await startBareServer()
      bare.start.push(b.startMs)
      await sleep(SETTLE_MS)
      bare.rss.push(await rssMb(b.child.pid as number))
      barePaid.push(paidMb(await Promise.all([memorySplit(b.child.pid as number)])))
      await b.stop()

      const { home, cleanup } = await tempHome()
      try {
        const s = await startService({ pkg, home })
        service.start.push(s.startMs)
        await sleep(SETTLE_MS)
        service.rss.push(await rssMb(s.child.pid as number))
        await s.stop()
      } finally {
        await cleanup()
      }
      // What a user pays: `ductor serve`, the supervisor and the service it starts.
      const second = await tempHome()
      try {
        const s = await startService({ pkg, home: second.home, supervised: true })
        await sleep(SETTLE_MS)
        // Every process `ductor serve` started and that runs at idle counts: the service and anything
        // below it (the CLI spawner only starts with the first run, ADR 32; if that changes, it shows here).
        const pid = await childPid(s.child.pid as number)
        const below = await descendants(s.child.pid as number)
        const sup = await rssMb(s.child.pid as number)
        const svc = pid === undefined ? NaN : await rssMb(pid)
        let others = 0
        for (const other of below) if (other !== pid) others += await rssMb(other)
        supervised.supervisor.push(sup)
        supervised.service.push(svc)
        supervised.others.push(others)
        supervised.processes.push(1 + below.length)
        supervised.total.push(sup + svc + others)
        supervised.paid.push(paidMb(await Promise.all([s.child.pid as number, ...below].map(memorySplit))))
        await s.stop()
      } finally {
        await second.cleanup()
      }
      progress(`idle run ${i + 1}/${RUNS}: service ${service.start.at(-1)?.toFixed(0)} ms, ${service.rss.at(-1)?.toFixed(1)} MB; bare node ${bare.start.at(-1)?.toFixed(0)} ms, ${bare.rss.at(-1)?.toFixed(1)} MB; ductor serve ${supervised.processes.at(-1) ?? '?'} processes: supervisor ${supervised.supervisor.at(-1)?.toFixed(1)} + service ${supervised.service.at(-1)?.toFixed(1)} + others ${supervised.others.at(-1)?.toFixed(1)} MB`)
    }
    const rss = median(service.rss)
    const start = median(service.start)
    result.rows.push({
      id: 'P4',
      what: `idle service RSS (median of ${RUNS})`,
      value: rss,
      unit: 'MB',
      target: '≤ 80 MB',
      ok: rss <= 80,
      baseline: { label: 'bare node:http', value: median(bare.rss) },
      ratio: rss / median(bare.rss)
    }, {
      id: 'F1',
      what: `\`ductor serve\` supervisor RSS, idle (median of ${RUNS})`,
      value: median(supervised.supervisor),
      unit: 'MB',
      target: '≤ 45 MB',
      ok: median(supervised.supervisor) <= 45,
      baseline: { label: 'bare node:http', value: median(bare.rss) },
      ratio: median(supervised.supervisor) / median(bare.rss)
    }, {
      id: 'F1',
      what: `\`ductor serve\` every process it starts (${Math.max(...supervised.processes)}) RSS, idle, no Telegram (median of ${RUNS})`,
      value: median(supervised.total),
      unit: 'MB',
      target: '≤ 100 MB',
      ok: median(supervised.total) <= 100,
      baseline: { label: 'two bare node:http', value: 2 * median(bare.rss) },
      ratio: median(supervised.total) / (2 * median(bare.rss))
    }, {
      id: 'F1',
      what: '(what the machine pays) the same processes, shared pages (the node binary\'s code) counted once',
      value: median(supervised.paid),
      unit: 'MB',
      target: '(context for F1)',
      ok: null,
      baseline: { label: 'one bare node:http, counted the same way', value: median(barePaid) },
      ratio: median(supervised.paid) / median(barePaid)
    }, {
      id: 'P4',
      what: `start → /health 200 (median of ${RUNS})`,
      value: start,
      unit: 'ms',
      target: '≤ 500 ms',
      ok: start <= 500,
      baseline: { label: 'bare node -e', value: median(bare.start) },
      ratio: start / median(bare.start)
    })
    const bareImport = await importCost(null)
    const rows: Array<Array<string | number>> = [['(bare node)', 0, bareImport.rssMb]]
    for (const spec of [...IMPORTS, join(pkg.dir, 'dist', 'src', 'main.js')]) {
      const c = await importCost(spec)
      rows.push([spec.startsWith('/') ? 'the whole service (dist/src/main.js)' : spec, c.cpuMs, c.rssMb])
    }
    result.growth.push({ title: 'P4: what the big dependencies cost alone (import in a fresh node: CPU ms, RSS MB)', columns: ['import', 'CPU ms', 'RSS MB'], rows })
  } finally {
    await pkg.cleanup()
  }
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchIdle())

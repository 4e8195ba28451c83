// `npm run bench`: every benchmark of issue 8, each in its own process (bench/<name>.ts, runnable
// alone), then one table: figure, target, baseline measured in the same run, ratio, ok. Loopback
// only; everything it writes goes to temp dirs; stops by itself (each benchmark has a deadline).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { emptyResult, render, type BenchResult } from './lib/report.ts'
import { buildPackage, ROOT } from './lib/service.ts'

interface Bench { file: string, what: string, timeoutMs: number }

// The rounds that start hundreds of processes (P5's 50 and 100 chats, P7's 10,000 jobs) go last:
// run before the webhook rounds, they left the machine at load 7-11 for them (the load is printed
// next to each webhook figure), and a load-generator figure should get the machine as quiet as the run allows.
const BENCHES: Bench[] = [
  { file: 'parsers.ts', what: 'P6 stream parsers', timeoutMs: 90_000 },
  { file: 'first-text.ts', what: 'P3 first visible text', timeoutMs: 90_000 },
  { file: 'idle.ts', what: 'P4 idle service', timeoutMs: 90_000 },
  { file: 'hooks.ts', what: 'P1 POST /hooks/:id', timeoutMs: 120_000 },
  { file: 'telegram-webhook.ts', what: 'P2 Telegram webhook ack', timeoutMs: 60_000 },
  { file: 'cron.ts', what: 'P7 cron jobs', timeoutMs: 150_000 },
  { file: 'chats.ts', what: 'P5 chats streaming', timeoutMs: 150_000 }
]

/** Ingress routes that are not on this branch yet: their benchmark files come with them. */
const NEEDS_ROUTE: Record<string, string> = {
  'hooks.ts': 'P1 (`POST /hooks/:id`, HMAC-verified and journaled): needs the webhook route (branch `hooks`); not measured in this run.',
  'telegram-webhook.ts': 'P2 (Telegram webhook ack while a run streams): needs the Telegram webhook route (branch `telegram`); not measured in this run.'
}

async function runOne (bench: Bench, env: NodeJS.ProcessEnv): Promise<BenchResult> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', bench.file), '--json'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), bench.timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  clearTimeout(timer)
  const line = out.split('\n').find((l) => l.startsWith('@@BENCH@@'))
  if (code !== 0 || line === undefined) {
    const failed = emptyResult()
    failed.notes.push(`${bench.what}: FAILED (${code === null ? `killed after ${bench.timeoutMs / 1000} s` : `exit ${code}`}); run \`node --import tsx bench/${bench.file}\` alone to see why.`)
    return failed
  }
  return JSON.parse(line.slice('@@BENCH@@'.length)) as BenchResult
}

function machine (): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  let mem = ''
  try {
    const kb = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]
    if (kb !== undefined) mem = `, ${(Number(kb) / 1024 / 1024).toFixed(1)} GB RAM`
  } catch {}
  return `${availableParallelism()} CPUs (${cpu})${mem}, Node ${process.version}, ${process.platform}`
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ')

const started = Date.now()
const loadBefore = load()
process.stderr.write(`ductor benchmarks: ${machine()}; load average ${loadBefore}\n`)
process.stderr.write('building the service into a temp dir (tsc -p tsconfig.build.json)…\n')
const pkg = await buildPackage()
const all = emptyResult()
try {
  const env = { ...process.env, BENCH_PKG: pkg.dir, NODE_ENV: 'production' }
  for (const bench of BENCHES) {
    if (!existsSync(join(ROOT, 'bench', bench.file))) {
      all.notes.push(NEEDS_ROUTE[bench.file] ?? `${bench.what}: bench/${bench.file} is missing.`)
      continue
    }
    process.stderr.write(`${bench.what} (bench/${bench.file})…\n`)
    const result = await runOne(bench, env)
    all.rows.push(...result.rows)
    all.growth.push(...result.growth)
    all.notes.push(...result.notes)
  }
} finally {
  await pkg.cleanup()
}
all.rows.sort((a, b) => a.id.localeCompare(b.id))
const header = [
  `ductor benchmarks — ${new Date().toISOString()}`,
  `machine: ${machine()}`,
  `load average: ${loadBefore} before, ${load()} after; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  ''
].join('\n')
process.stdout.write(`${header}\n${render(all)}\n`)

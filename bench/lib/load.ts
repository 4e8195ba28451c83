/**
 * HTTP load from a second process: `wrk` (Debian's package, C, one thread) when it is on PATH, else
 * autocannon (a devDependency, a node process that needs a core of its own to keep up: on a 2-core
 * machine it takes CPU from the server it measures). `BENCH_LOAD=autocannon` forces autocannon.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './service.ts'

/** The load generator this run uses: `wrk` when it can be run, else `autocannon`. */
export const LOAD_GENERATOR: 'wrk' | 'autocannon' = (() => {
  if (process.env['BENCH_LOAD'] === 'autocannon') return 'autocannon'
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return 'wrk'
  } catch (err) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'autocannon' : 'wrk'
  }
})()

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  max: number
  ok: number
  non2xx: number
  errors: number
  /** CPU time the server process spent per request (user + system, µs), when `pid` was given: robust to a busy machine where req/s is not. */
  cpuUsPerRequest: number | null
  /** The kernel's share of that (system time: syscalls, fsync, the network stack), µs per request. */
  sysUsPerRequest: number | null
}

export interface LoadOptions {
  /** The server's pid: its CPU time over the load is read from /proc (Linux). */
  pid?: number
  url: string
  connections: number
  seconds: number
  method?: string
  headers?: Record<string, string>
  body?: string
}

export async function load (opts: LoadOptions): Promise<LoadResult> {
  return LOAD_GENERATOR === 'wrk' ? await loadWrk(opts) : await loadAutocannon(opts)
}

/** wrk's own summary, printed by the script's `done` as one JSON line (latencies in µs). */
const WRK_SCRIPT = `
local f = io.open(os.getenv("BENCH_BODY_FILE"), "rb")
wrk.body = f:read("*a")
f:close()
wrk.method = os.getenv("BENCH_METHOD")
for name, value in string.gmatch(os.getenv("BENCH_HEADERS"), "([^\\n=]+)=([^\\n]*)") do wrk.headers[name] = value end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("@@WRK@@{\\"requests\\":%d,\\"us\\":%d,\\"p50\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"status\\":%d,\\"errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
`

async function loadWrk (opts: LoadOptions): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-bench-wrk-'))
  try {
    await writeFile(join(dir, 'post.lua'), WRK_SCRIPT)
    await writeFile(join(dir, 'body'), opts.body ?? '')
    const headers = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}=${v}`).join('\n')
    const cpuBefore = opts.pid === undefined ? null : await cpuMs(opts.pid)
    const { stdout } = await promisify(execFile)('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '-s', join(dir, 'post.lua'), opts.url], {
      env: { ...process.env, BENCH_BODY_FILE: join(dir, 'body'), BENCH_METHOD: opts.method ?? 'POST', BENCH_HEADERS: headers },
      timeout: (opts.seconds + 30) * 1000
    })
    const cpuAfter = opts.pid === undefined ? null : await cpuMs(opts.pid)
    const line = stdout.split('\n').find((l) => l.startsWith('@@WRK@@'))
    if (line === undefined) throw new Error(`wrk printed no summary: ${stdout}`)
    const r = JSON.parse(line.slice('@@WRK@@'.length)) as { requests: number, us: number, p50: number, p99: number, max: number, status: number, errors: number }
    const per = (a: number | undefined, b: number | undefined): number | null => a === undefined || b === undefined || r.requests === 0 ? null : 1000 * (b - a) / r.requests
    return {
      rps: r.requests / (r.us / 1e6),
      p50: r.p50 / 1000,
      p99: r.p99 / 1000,
      max: r.max / 1000,
      // wrk counts answers of 400 and above; the routes measured answer 2xx or 4xx/5xx, never 1xx or 3xx.
      ok: r.requests - r.status,
      non2xx: r.status,
      errors: r.errors,
      cpuUsPerRequest: per(cpuBefore?.total, cpuAfter?.total),
      sysUsPerRequest: per(cpuBefore?.system, cpuAfter?.system)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function loadAutocannon (opts: LoadOptions): Promise<LoadResult> {
  const args = [join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), '--json', '-c', String(opts.connections), '-d', String(opts.seconds), '-m', opts.method ?? 'POST']
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`)
  if (opts.body !== undefined) args.push('-b', opts.body)
  args.push(opts.url)
  const cpuBefore = opts.pid === undefined ? null : await cpuMs(opts.pid)
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, timeout: (opts.seconds + 30) * 1000 })
  const r = JSON.parse(stdout) as {
    requests: { average: number, total: number }
    latency: { p50: number, p99: number, max: number }
    '2xx': number
    non2xx: number
    errors: number
  }
  const cpuAfter = opts.pid === undefined ? null : await cpuMs(opts.pid)
  const per = (a: number | undefined, b: number | undefined): number | null => a === undefined || b === undefined || r.requests.total === 0 ? null : 1000 * (b - a) / r.requests.total
  const cpuUsPerRequest = per(cpuBefore?.total, cpuAfter?.total)
  const sysUsPerRequest = per(cpuBefore?.system, cpuAfter?.system)
  return { sysUsPerRequest, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors, cpuUsPerRequest }
}

/** User + system CPU time of a process so far, and the system part, in ms (from /proc/<pid>/stat; null where there is none). */
export async function cpuMs (pid: number): Promise<{ total: number, system: number } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100 a second on Linux).
    return { total: (Number(fields[11]) + Number(fields[12])) * 10, system: Number(fields[12]) * 10 }
  } catch {
    return null
  }
}

/** HTTP load from a second process: autocannon (a devDependency) run as a child, its JSON read back. */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './service.ts'

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

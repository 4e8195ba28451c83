/** HTTP load from a second process: autocannon (a devDependency) run as a child, its JSON read back. */
import { execFile } from 'node:child_process'
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
}

export interface LoadOptions {
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
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, timeout: (opts.seconds + 30) * 1000 })
  const r = JSON.parse(stdout) as {
    requests: { average: number }
    latency: { p50: number, p99: number, max: number }
    '2xx': number
    non2xx: number
    errors: number
  }
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors }
}

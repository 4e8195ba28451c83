/**
 * Open-loop HTTP load at a fixed rate, for latency well under capacity (bench/hooks.ts, F4's context
 * rows; ADR 0048). wrk and autocannon are closed-loop: each connection sends its next request only
 * when the last one is answered, so a slow answer also delays the requests that would have been sent
 * meanwhile, and their wait is never measured ("coordinated omission"); at saturation every p99 is
 * the queue. Here request i is due at `start + i / rate` whatever happened before, and its latency is
 * measured from that scheduled time to the end of its answer, so time a request spent waiting — for
 * a connection, for the generator's own timer, for the server — counts. `sendLag` says how late the
 * generator itself sent requests (its timer fires at most every millisecond, so a request may leave
 * up to ~1 ms after its time; that delay is inside every latency here, for every server alike).
 *
 * The generator runs in the benchmark's process (node:http, keep-alive, up to `connections` sockets;
 * a request due while every socket is busy waits for one, and that wait counts). At 1,000–4,000 req/s
 * it needs a small part of a core.
 */
import { Agent, request } from 'node:http'
import { cpuMs } from './load.ts'

export interface OpenLoopOptions {
  url: string
  /** Requests per second, on a fixed timetable. */
  rate: number
  seconds: number
  headers: Record<string, string>
  body: string
  /** Sockets at most (keep-alive). Default 64. */
  connections?: number
  /** The server's pid: its CPU time per request (user + system, µs) is read from /proc. */
  pid?: number
}

export interface OpenLoopResult {
  rate: number
  sent: number
  ok: number
  non2xx: number
  errors: number
  /** Latency from each request's scheduled time to the end of its answer, ms. */
  p50: number
  p99: number
  max: number
  /** How late the generator sent requests after their scheduled time, ms. */
  sendLagP50: number
  sendLagP99: number
  cpuUsPerRequest: number | null
}

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

export async function openLoop (opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round(opts.rate * opts.seconds))
  const interval = 1000 / opts.rate
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections ?? 64 })
  const body = Buffer.from(opts.body)
  const headers = { ...opts.headers, 'content-length': String(body.length) }
  const target = new URL(opts.url)
  const latency = new Float64Array(total)
  const lag = new Float64Array(total)
  let ok = 0
  let non2xx = 0
  let errors = 0
  let settled = 0
  let next = 0
  const cpuBefore = opts.pid === undefined ? null : await cpuMs(opts.pid)
  const start = performance.now() + 20

  await new Promise<void>((resolve) => {
    const done = (): void => { if (++settled === total) resolve() }
    const send = (i: number, due: number): void => {
      lag[i] = performance.now() - due
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, agent }, (res) => {
        res.resume()
        res.on('end', () => {
          latency[i] = performance.now() - due
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) ok++
          else non2xx++
          done()
        })
        res.on('error', () => { latency[i] = performance.now() - due; errors++; done() })
      })
      req.on('error', () => { latency[i] = performance.now() - due; errors++; done() })
      req.end(body)
    }
    const tick = (): void => {
      const now = performance.now()
      while (next < total && start + next * interval <= now) {
        send(next, start + next * interval)
        next++
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, start + next * interval - performance.now())))
    }
    setTimeout(tick, 20)
  })
  const cpuAfter = opts.pid === undefined ? null : await cpuMs(opts.pid)
  agent.destroy()
  latency.sort()
  lag.sort()
  return {
    rate: opts.rate,
    sent: total,
    ok,
    non2xx,
    errors,
    p50: percentile(latency, 0.5),
    p99: percentile(latency, 0.99),
    max: latency[latency.length - 1] ?? Number.NaN,
    sendLagP50: percentile(lag, 0.5),
    sendLagP99: percentile(lag, 0.99),
    cpuUsPerRequest: cpuBefore === null || cpuAfter === null ? null : 1000 * (cpuAfter.total - cpuBefore.total) / total
  }
}

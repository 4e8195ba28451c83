import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config.ts'
import type { CommandRunner } from './runner.ts'

/**
 * The facts `ductor status` adds to "running or not" (as the Python version shows them): how long
 * the service has run, the Docker sandbox's state and how many errors the log holds. Each is read
 * from the machine, never guessed; what cannot be read says so.
 */

/** "3 d 2 h", "2 h 13 min", "45 s": how long something has run. */
export function formatUptime (ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d} d ${h} h`
  if (h > 0) return `${h} h ${m} min`
  if (m > 0) return `${m} min`
  return `${s} s`
}

/** The end of the log that is read for errors: enough for days of a quiet service, never the whole file. */
const tailBytes = 4 * 1024 * 1024

/** Error (and fatal) lines of `logs/ductor.log` written since `sinceMs`; null when there is no log. */
export async function countLogErrors (logDir: string, sinceMs: number): Promise<{ errors: number, last: string | null } | null> {
  const path = join(logDir, 'ductor.log')
  let text: string
  try {
    const size = (await stat(path)).size
    const handle = await open(path, 'r')
    try {
      const start = Math.max(0, size - tailBytes)
      const buf = Buffer.alloc(size - start)
      await handle.read(buf, 0, buf.length, start)
      text = buf.toString('utf8')
    } finally {
      await handle.close()
    }
  } catch {
    return null
  }
  let errors = 0
  let last: string | null = null
  for (const line of text.split('\n')) {
    if (!line.includes('"level":5') && !line.includes('"level":6')) continue
    try {
      const entry = JSON.parse(line) as { level?: unknown, time?: unknown, msg?: unknown }
      const at = typeof entry.time === 'string' ? Date.parse(entry.time) : typeof entry.time === 'number' ? entry.time : NaN
      if (typeof entry.level !== 'number' || entry.level < 50 || !(at >= sinceMs)) continue
      errors++
      last = typeof entry.msg === 'string' ? entry.msg : last
    } catch {}
  }
  return { errors, last }
}

/** The sandbox as the CLIs will meet it: off, or the container's state as `docker` tells it. */
export async function dockerState (config: Config, runner: CommandRunner): Promise<string> {
  if (!config.docker.enabled) return 'off (the CLIs run on this machine)'
  const name = config.docker.container_name
  const r = await runner('docker', ['inspect', '--format', '{{.State.Status}}', name], { timeoutMs: 5000 })
  if (r.notFound) return `on, but docker is not installed: CLI runs go on on the host, without the sandbox (container ${name})`
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n')[0] ?? ''
    return /no such (object|container)/i.test(why) ? `on, container ${name} does not exist` : `on, container ${name}: docker cannot tell (${r.timedOut ? 'timed out' : why || `exit ${r.exitCode}`})`
  }
  return `on, container ${name} ${r.stdout.trim() || 'unknown'}`
}

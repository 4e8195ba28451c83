import { open } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Recent lines of the service log (`logs/ductor.log`) for `/diagnose` (SPEC §4), shortened to
 * `time level message` and scrubbed: every live secret by value (`mask`, the service's one secret set,
 * which the logger uses too), plus anything shaped like a bot token or a bearer credential, since the chat is not the
 * place for either even if the log somehow held one.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const BOT_TOKEN = /\b\d{5,}:[A-Za-z0-9_-]{30,}\b/g
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi

export function scrubLine (line: string, mask: (text: string) => string): string {
  return mask(line).replace(BOT_TOKEN, '[REDACTED]').replace(BEARER, '$1[REDACTED]')
}

/** `12:03:04 WARN message (component, error)` from one pino JSON line; other lines as they are. */
export function shortLogLine (line: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line.trim()
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 19) : typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 19) : ''
  const level = typeof o.level === 'number' ? LEVELS[o.level] ?? String(o.level) : String(o.level ?? '')
  const err = o.err as { message?: unknown } | undefined
  const extra = [o.component, typeof err?.message === 'string' ? err.message : undefined].filter((v) => typeof v === 'string' && v !== '')
  return `${time} ${level} ${String(o.msg ?? '')}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`.trim()
}

/** The last `count` non-empty lines of the log (reads at most `maxBytes` from its end); [] when there is none. */
export async function readLogTail (logDir: string, count = 15, maxBytes = 64 * 1024): Promise<string[]> {
  let handle
  try {
    handle = await open(join(logDir, 'ductor.log'), 'r')
  } catch {
    return []
  }
  try {
    const { size } = await handle.stat()
    const length = Math.min(size, maxBytes)
    const buf = Buffer.alloc(length)
    await handle.read(buf, 0, length, size - length)
    const lines = buf.toString('utf8').split('\n')
    if (length < size) lines.shift()
    return lines.filter((l) => l.trim() !== '').slice(-count)
  } finally {
    await handle.close()
  }
}

import type { CliIo } from './io.ts'

/** Prints rows as an aligned text table (the human default) — `--json` prints the raw answer instead. */
export function table (rows: Array<Record<string, unknown>>, columns: Array<[key: string, title: string]>): string {
  if (rows.length === 0) return '(none)\n'
  const cell = (v: unknown): string => v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  const cells = rows.map((row) => columns.map(([key]) => cell(row[key]).replace(/\s+/g, ' ')))
  const widths = columns.map(([, title], i) => Math.min(60, Math.max(title.length, ...cells.map((r) => (r[i] ?? '').length))))
  const line = (values: string[]): string => values.map((v, i) => {
    const w = widths[i] ?? 0
    return (v.length > w ? v.slice(0, w - 1) + '…' : v).padEnd(w)
  }).join('  ').trimEnd()
  return [line(columns.map(([, title]) => title.toUpperCase())), ...cells.map(line)].join('\n') + '\n'
}

export function printJson (io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** `--json` prints the API's answer as it is; otherwise the human text. */
export function printResult (io: CliIo, opts: { json?: boolean }, value: unknown, text: () => string): void {
  if (opts.json === true) printJson(io, value)
  else io.stdout.write(text())
}

/**
 * The zone list times are shown in: the service's `user_timezone`, else (empty) the host's zone,
 * as the service itself falls back. Every list shows its times in it, with the zone in the header.
 */
export async function userZone (io: CliIo, api: { request: <T>(method: string, path: string) => Promise<T> }): Promise<string> {
  const config = await api.request<{ user_timezone?: string }>('GET', '/config').catch(() => null)
  const zone = config?.user_timezone ?? ''
  return zone !== '' ? zone : (io.env['TZ'] ?? '') !== '' ? (io.env['TZ'] as string) : Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** An ISO instant as `2026-01-16 08:00:05` local time in `zone` (null stays null). */
export function localTime (iso: string | null | undefined, zone: string): string | null {
  if (iso === null || iso === undefined || iso === '') return null
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'
  }).formatToParts(date).map((x) => [x.type, x.value]))
  return `${p['year'] ?? ''}-${p['month'] ?? ''}-${p['day'] ?? ''} ${p['hour'] ?? ''}:${p['minute'] ?? ''}:${p['second'] ?? ''}`
}

/** Dollars without float noise: `0.020925`, `1.5`; null stays null. */
export function formatUsd (value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null
  return String(Math.round(value * 1e6) / 1e6)
}

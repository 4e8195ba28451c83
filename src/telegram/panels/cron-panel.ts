import { createHash } from 'node:crypto'
import { escapeHtml } from '../format/html.ts'
import { button, label, type InlineButton, type Panel } from './keyboard.ts'

/**
 * The `/cron` panel (SPEC §4, §8.2): jobs page by page with their schedule, next run in the job's
 * zone and last status, a one-tap enable/disable per job, all on / all off, paging. A job is named in
 * callback data by a short hash of its id (`crn:t:<page>:<key>`), since ids may be long: the data
 * stays under 64 bytes and a press still finds the job after the list changed.
 */
export const CRON_PREFIX = 'crn:'
const CRON_PAGE_SIZE = 5

export type CronAction =
  | { kind: 'page', page: number }
  | { kind: 'toggle', page: number, key: string }
  | { kind: 'all', page: number, enabled: boolean }

export interface CronRow {
  id: string
  title: string
  schedule: string
  enabled: boolean
  zone: string
  /** Planned next run (ms), null when disabled or never. */
  next: number | null
  lastStatus: string | null
  running: boolean
}

export function jobKey (id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 10)
}

export function parseCronData (data: string): CronAction | null {
  if (!data.startsWith(CRON_PREFIX)) return null
  const [kind, a = '', b = ''] = data.slice(CRON_PREFIX.length).split(':')
  const page = /^\d{1,4}$/.test(a) ? Number(a) : NaN
  if (Number.isNaN(page)) return null
  if (kind === 'p') return { kind: 'page', page }
  if (kind === 't' && /^[A-Za-z0-9_-]{10}$/.test(b)) return { kind: 'toggle', page, key: b }
  if (kind === 'a' && (b === '1' || b === '0')) return { kind: 'all', page, enabled: b === '1' }
  return null
}

/** `Wed 2 Dec, 08:00` in `zone`. */
export function formatInZone (instant: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(instant))
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('weekday')} ${get('day')} ${get('month')}, ${get('hour')}:${get('minute')}`
}

function pageCount (total: number): number {
  return Math.max(1, Math.ceil(total / CRON_PAGE_SIZE))
}

function describe (row: CronRow): string {
  const head = `${row.enabled ? '✅' : '⏸'} <b>${escapeHtml(label(row.title || row.id, 80))}</b> · <code>${escapeHtml(label(row.schedule, 60))}</code>`
  const next = !row.enabled ? 'disabled' : row.next === null ? 'no next run' : `next ${formatInZone(row.next, row.zone)} (${escapeHtml(row.zone)})`
  const last = row.running ? 'running now' : `last: ${escapeHtml(label(row.lastStatus ?? 'never run', 60))}`
  return `${head}\n    ${next} · ${last}`
}

/** One page of jobs; `page` is clamped to the pages there are. `note` says what the last tap did. */
export function cronView (rows: readonly CronRow[], page: number, note = ''): Panel {
  const pages = pageCount(rows.length)
  const p = Math.min(Math.max(0, page), pages - 1)
  const shown = rows.slice(p * CRON_PAGE_SIZE, (p + 1) * CRON_PAGE_SIZE)
  const enabled = rows.filter((r) => r.enabled).length
  const head = rows.length === 0
    ? 'No cron jobs yet. Ask me to schedule something, or use <code>ductor cron add</code>.'
    : `<b>Cron jobs</b>: ${rows.length}, ${enabled} enabled${pages > 1 ? ` · page ${p + 1}/${pages}` : ''}`
  const body = shown.map(describe).join('\n\n')
  const html = [note === '' ? '' : `<i>${escapeHtml(label(note, 300))}</i>`, head, body].filter((s) => s !== '').join('\n\n')
  const keyboard: InlineButton[][] = shown.map((r) => [
    button(r.enabled ? `⏸ Disable ${label(r.title || r.id, 24)}` : `▶ Enable ${label(r.title || r.id, 24)}`, `${CRON_PREFIX}t:${p}:${jobKey(r.id)}`)
  ])
  if (pages > 1) {
    const nav: InlineButton[] = []
    if (p > 0) nav.push(button('« Prev', `${CRON_PREFIX}p:${p - 1}`))
    nav.push(button(`${p + 1}/${pages}`, `${CRON_PREFIX}p:${p}`))
    if (p < pages - 1) nav.push(button('Next »', `${CRON_PREFIX}p:${p + 1}`))
    keyboard.push(nav)
  }
  const tail = [button('↻ Refresh', `${CRON_PREFIX}p:${p}`)]
  if (rows.length > 0) tail.unshift(button('All on', `${CRON_PREFIX}a:${p}:1`), button('All off', `${CRON_PREFIX}a:${p}:0`))
  keyboard.push(tail)
  return { html, keyboard }
}

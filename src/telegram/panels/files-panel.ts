import { randomBytes } from 'node:crypto'
import { escapeHtml } from '../format/html.ts'
import { button, label, type InlineButton, type Panel } from './keyboard.ts'
import { formatSize, type HomeEntry } from './home-browser.ts'

/**
 * The `/showfiles` panel (SPEC §4). Paths never travel in callback data: each panel message gets a
 * short random token that maps (in memory) to the folder it shows and its listing, and buttons carry
 * `fls:<token>:<generation>:<action>` with an index into that listing. After a restart, or once the
 * token has been evicted, a press is answered with a note to send /showfiles again.
 */
export const FILES_PREFIX = 'fls:'
const FILES_PAGE_SIZE = 8

export interface FilesView {
  chatId: string
  /** Folder shown, relative to the home ('' = the home). */
  rel: string
  entries: HomeEntry[]
  hidden: number
  page: number
  /** Bumped on every navigation, so a button of an older listing is recognised. */
  gen: number
}

export type FilesAction =
  | { kind: 'open', index: number }
  | { kind: 'up' }
  | { kind: 'page', page: number }

export interface FilesPress { token: string, gen: number, action: FilesAction }

export function parseFilesData (data: string): FilesPress | null {
  const m = /^fls:([A-Za-z0-9_-]{8}):(\d{1,6}):(?:o(\d{1,5})|(u)|p(\d{1,5}))$/.exec(data)
  if (m === null) return null
  const action: FilesAction = m[3] !== undefined ? { kind: 'open', index: Number(m[3]) } : m[4] !== undefined ? { kind: 'up' } : { kind: 'page', page: Number(m[5]) }
  return { token: m[1] as string, gen: Number(m[2]), action }
}

/** Panel tokens, newest kept: the oldest is forgotten once there are `max`. */
export interface TokenStore<T> {
  create: (value: T) => string
  get: (token: string) => T | undefined
  readonly size: number
}

export function createTokenStore<T> (max = 200): TokenStore<T> {
  const map = new Map<string, T>()
  return {
    create (value) {
      const token = randomBytes(6).toString('base64url')
      map.set(token, value)
      while (map.size > max) map.delete(map.keys().next().value as string)
      return token
    },
    get: (token) => map.get(token),
    get size () { return map.size }
  }
}

export const STALE_NOTE = 'This file list is out of date (ductor restarted or it is too old). Send /showfiles again.'

export function filesView (token: string, view: FilesView, note = ''): Panel {
  const pages = Math.max(1, Math.ceil(view.entries.length / FILES_PAGE_SIZE))
  const page = Math.min(Math.max(0, view.page), pages - 1)
  const base = `${FILES_PREFIX}${token}:${view.gen}:`
  const shown = view.entries.slice(page * FILES_PAGE_SIZE, (page + 1) * FILES_PAGE_SIZE)
  const keyboard: InlineButton[][] = shown.map((e, i) => {
    const icon = e.kind === 'dir' ? '📁' : e.kind === 'file' ? '📄' : '❔'
    const size = e.kind === 'file' ? ` · ${formatSize(e.size)}` : ''
    return [button(`${icon} ${label(e.name, 30)}${e.link ? ' ↗' : ''}${size}`, `${base}o${page * FILES_PAGE_SIZE + i}`)]
  })
  const nav: InlineButton[] = []
  if (view.rel !== '') nav.push(button('⬆ Up', `${base}u`))
  if (page > 0) nav.push(button('« Prev', `${base}p${page - 1}`))
  if (page < pages - 1) nav.push(button('Next »', `${base}p${page + 1}`))
  if (nav.length > 0) keyboard.push(nav)
  const where = view.rel === '' ? 'home' : view.rel.length > 300 ? `home/…${view.rel.slice(-300)}` : `home/${view.rel}`
  const counts = view.entries.length === 0 ? 'empty' : `${view.entries.length} entries${pages > 1 ? ` · page ${page + 1}/${pages}` : ''}`
  const hidden = view.hidden > 0 ? `\n${view.hidden} with unusual names not shown` : ''
  const lines = [note === '' ? '' : `<i>${escapeHtml(label(note, 400))}</i>\n`, `📁 <code>${escapeHtml(where)}</code>\n${counts}${hidden}`, '\nTap a folder to open it, a file to receive it.']
  return { html: lines.join(''), keyboard }
}

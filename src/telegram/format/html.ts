/**
 * Small helpers for the Telegram HTML this package produces: escaping, and a tokenizer for HTML
 * that is already well formed (our own output). It is not a validator; the strict one that mirrors
 * Telegram lives in test/fakes/bot-api/telegram-html.ts.
 */

export function escapeHtml (text: string): string {
  return text.replace(/[&<>]/g, (c) => c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')
}

/** Escapes a value for a double-quoted attribute. */
export function escapeAttr (text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;')
}

export type HtmlToken =
  | { kind: 'open', name: string, raw: string }
  | { kind: 'close', name: string, raw: string }
  /** One visible character (a code point): `raw` as written, `text` as Telegram shows it. */
  | { kind: 'char', raw: string, text: string }

const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' }

function decodeEntity (html: string, at: number): { text: string, end: number } | null {
  const m = /^&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot));/.exec(html.slice(at, at + 12))
  if (m === null) return null
  if (m[3] !== undefined) return { text: named[m[3]] ?? '', end: at + m[0].length }
  const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2] ?? '', 10)
  if (code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null
  return { text: String.fromCodePoint(code), end: at + m[0].length }
}

/**
 * Splits well-formed Telegram HTML into tags and visible characters (code points, so a cut never
 * falls inside a surrogate pair or an entity). Anything unexpected is kept as text.
 */
function tokenizeHtml (html: string): HtmlToken[] {
  return tokenizeHtmlWithEnds(html).tokens
}

/** `tokenizeHtml`, and where each token ends in `html` (an index just past it). */
export function tokenizeHtmlWithEnds (html: string): { tokens: HtmlToken[], ends: number[] } {
  const out: HtmlToken[] = []
  const ends: number[] = []
  let i = 0
  while (i < html.length) {
    if (out.length > ends.length) ends.push(i)
    const c = html[i] as string
    if (c === '<') {
      const end = html.indexOf('>', i)
      if (end !== -1) {
        const raw = html.slice(i, end + 1)
        const close = raw[1] === '/'
        const name = (/^<\/?([a-zA-Z][\w-]*)/.exec(raw)?.[1] ?? '').toLowerCase()
        out.push(close ? { kind: 'close', name, raw } : { kind: 'open', name, raw })
        i = end + 1
        continue
      }
    }
    if (c === '&') {
      const entity = decodeEntity(html, i)
      if (entity !== null) {
        out.push({ kind: 'char', raw: html.slice(i, entity.end), text: entity.text })
        i = entity.end
        continue
      }
    }
    const cp = html.codePointAt(i) ?? 0
    const ch = String.fromCodePoint(cp)
    out.push({ kind: 'char', raw: ch, text: ch })
    i += ch.length
  }
  if (out.length > ends.length) ends.push(i)
  return { tokens: out, ends }
}

/** The text Telegram shows for `html`: tags removed, entities decoded (not trimmed). */
export function htmlToText (html: string): string {
  let text = ''
  for (const t of tokenizeHtml(html)) if (t.kind === 'char') text += t.text
  return text
}

/** Length as Telegram counts it: UTF-16 code units of the visible text. */
export function visibleLength (html: string): number {
  return htmlToText(html).length
}

/**
 * A parser for Telegram's HTML parse mode, written after tdlib's `parse_html`
 * (td/telegram/MessageEntity.cpp) so the fake Bot API rejects what Telegram rejects, with the same
 * error texts and UTF-8 byte offsets.
 *
 * `strict` (the default) is stricter than Telegram on purpose, to catch sloppy output early:
 *  - `&` must start `&lt;` `&gt;` `&amp;` `&quot;` or a numeric entity, with its `;` (Telegram keeps
 *    an undecodable `&` as text and does not require the `;`);
 *  - attributes only where Telegram reads them (Telegram ignores others);
 *  - no tags inside `code`/`pre` except one `<code>` directly in `<pre>`, no `<a>` in `<a>`, no
 *    `<blockquote>` in `<blockquote>` (Telegram accepts these but drops formatting).
 * Those errors are the fake's own wording and say "(strict)".
 */

export interface ParsedEntity {
  type: string
  offset: number
  length: number
  url?: string
  language?: string
  custom_emoji_id?: string
}

export type ParseResult =
  | { ok: true, text: string, entities: ParsedEntity[] }
  | { ok: false, error: string }

const supported = new Set(['a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins', 'tg-spoiler',
  'tg-emoji', 'span', 'pre', 'code', 'blockquote'])
const entityType: Record<string, string> = {
  a: 'text_link',
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  u: 'underline',
  ins: 'underline',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  'tg-emoji': 'custom_emoji',
  pre: 'pre',
  code: 'code',
  blockquote: 'blockquote'
}
const allowedAttributes: Record<string, string[]> = {
  a: ['href'], code: ['class'], span: ['class'], 'tg-emoji': ['emoji-id'], blockquote: ['expandable']
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'

class HtmlError extends Error {}

/** tdlib's decode_html_entity: returns the character and the index after the entity, or null. */
export function decodeHtmlEntity (s: string, at: number, strict: boolean): { ch: string, end: number } | null {
  let end = at + 1
  let code = 0
  if (s[end] === '#') {
    end++
    const hex = s[end] === 'x'
    if (hex) end++
    const digits = hex ? /[0-9a-fA-F]/ : /[0-9]/
    const from = end
    while (end < s.length && digits.test(s[end] as string)) {
      code = code * (hex ? 16 : 10) + parseInt(s[end] as string, 16)
      end++
      if (code >= 0x10ffff) return null
    }
    if (end === from || code === 0 || (code >= 0xd800 && code <= 0xdfff)) return null
  } else {
    const from = end
    while (end < s.length && /[a-zA-Z]/.test(s[end] as string)) end++
    const name = s.slice(from, end)
    const named: Record<string, number> = { lt: 60, gt: 62, amp: 38, quot: 34 }
    if (!(name in named)) return null
    code = named[name] as number
  }
  if (s[end] === ';') end++
  else if (strict) return null
  return { ch: String.fromCodePoint(code), end }
}

interface Open {
  tag: string
  arg: string
  expandable: boolean
  offset: number
  begin: number
}

export function parseTelegramHtml (html: string, options: { strict?: boolean } = {}): ParseResult {
  const strict = options.strict ?? true
  const byteOffset = (i: number): number => Buffer.byteLength(html.slice(0, i), 'utf8')
  const fail = (message: string): never => { throw new HtmlError(message) }
  let text = ''
  const entities: ParsedEntity[] = []
  const stack: Open[] = []
  const n = html.length
  try {
    for (let i = 0; i < n; i++) {
      const c = html[i] as string
      if (c === '&') {
        const decoded = decodeHtmlEntity(html, i, strict)
        if (decoded !== null) {
          text += decoded.ch
          i = decoded.end - 1
          continue
        }
        if (strict) fail(`Unescaped "&" at byte offset ${byteOffset(i)} (strict)`)
      }
      if (c !== '<') {
        text += c
        continue
      }
      const begin = i
      i++
      if (html[i] !== '/') {
        const from = i
        while (i < n && !isSpace(html[i]) && html[i] !== '>') i++
        if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
        const tag = html.slice(from, i).toLowerCase()
        if (!supported.has(tag)) fail(`Unsupported start tag "${tag}" at byte offset ${byteOffset(begin)}`)
        let arg = ''
        let hasArg = false
        let expandable = false
        while (html[i] !== '>') {
          while (i < n && isSpace(html[i])) i++
          if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
          if (html[i] === '>') break
          const nameFrom = i
          while (i < n && !isSpace(html[i]) && html[i] !== '=' && html[i] !== '>') i++
          const name = html.slice(nameFrom, i).toLowerCase()
          if (name === '') fail(`Empty attribute name in the tag "${tag}" at byte offset ${byteOffset(begin)}`)
          if (strict && !(allowedAttributes[tag] ?? []).includes(name)) {
            fail(`Unsupported attribute "${name}" in the tag "${tag}" at byte offset ${byteOffset(begin)} (strict)`)
          }
          while (i < n && isSpace(html[i])) i++
          if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
          if (html[i] !== '=') {
            if (tag === 'blockquote' && name === 'expandable') expandable = true
            continue
          }
          i++
          while (i < n && isSpace(html[i])) i++
          if (i >= n) fail(`Unclosed start tag "${tag}" at byte offset ${byteOffset(begin)}`)
          let value = ''
          const quote = html[i]
          if (quote !== '"' && quote !== '\'') {
            const tokenFrom = i
            while (i < n && /[a-zA-Z0-9.-]/.test(html[i] as string)) i++
            value = html.slice(tokenFrom, i).toLowerCase()
            if (i < n && !isSpace(html[i]) && html[i] !== '>') {
              fail(`Unexpected end of name token at byte offset ${byteOffset(tokenFrom)}`)
            }
          } else {
            i++
            while (i < n && html[i] !== quote) {
              if (html[i] === '&') {
                const decoded = decodeHtmlEntity(html, i, strict)
                if (decoded !== null) {
                  value += decoded.ch
                  i = decoded.end
                  continue
                }
                if (strict) fail(`Unescaped "&" at byte offset ${byteOffset(i)} (strict)`)
              }
              value += html[i]
              i++
            }
            if (html[i] === quote) i++
          }
          if (i >= n) fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`)
          if (tag === 'a' && name === 'href') { arg = value; hasArg = true }
          if (tag === 'code' && name === 'class' && value.startsWith('language-')) arg = value.slice(9)
          if (tag === 'span' && name === 'class' && value.startsWith('tg-')) arg = value.slice(3)
          if (tag === 'tg-emoji' && name === 'emoji-id') { arg = value; hasArg = true }
          if (tag === 'blockquote' && name === 'expandable') expandable = true
        }
        if (tag === 'span' && arg !== 'spoiler') fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`)
        if (strict && tag === 'tg-emoji' && !hasArg) fail(`Tag "tg-emoji" must have attribute "emoji-id" at byte offset ${byteOffset(begin)} (strict)`)
        if (strict) checkNesting(stack, tag, text.length, () => byteOffset(begin), fail)
        stack.push({ tag, arg, expandable, offset: text.length, begin })
      } else {
        if (stack.length === 0) fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`)
        const from = i + 1
        i = from
        while (i < n && !isSpace(html[i]) && html[i] !== '>') i++
        const endTag = html.slice(from, i)
        while (i < n && isSpace(html[i])) i++
        if (html[i] !== '>') fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`)
        const open = stack[stack.length - 1] as Open
        if (endTag !== '' && endTag !== open.tag) {
          fail(`Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${open.tag}>", found "</${endTag}>"`)
        }
        stack.pop()
        closeEntity(open, text.length, entities)
      }
    }
    if (stack.length > 0) fail(`Can't find end tag corresponding to start tag "${(stack[stack.length - 1] as Open).tag}"`)
  } catch (err) {
    if (err instanceof HtmlError) return { ok: false, error: err.message }
    throw err
  }
  return { ok: true, ...trimFormatted(text, entities) }
}

function checkNesting (stack: Open[], tag: string, offset: number, at: () => number, fail: (m: string) => never): void {
  const parent = stack[stack.length - 1]
  if (parent === undefined) return
  const where = `at byte offset ${at()} (strict)`
  if (parent.tag === 'code') fail(`Tag "${tag}" can't be nested in "code" ${where}`)
  if (parent.tag === 'pre' && (tag !== 'code' || offset !== parent.offset)) fail(`Tag "${tag}" can't be nested in "pre" ${where}`)
  if (tag === 'a' && stack.some((o) => o.tag === 'a')) fail(`Tag "a" can't be nested in "a" ${where}`)
  if (tag === 'blockquote' && stack.some((o) => o.tag === 'blockquote')) fail(`Tag "blockquote" can't be nested in "blockquote" ${where}`)
}

function closeEntity (open: Open, end: number, entities: ParsedEntity[]): void {
  const length = end - open.offset
  let type = entityType[open.tag] as string
  if (open.tag === 'blockquote' && open.expandable) type = 'expandable_blockquote'
  if (open.tag === 'pre') {
    const last = entities[entities.length - 1]
    if (last !== undefined && last.type === 'code' && last.offset === open.offset && last.length === length) {
      entities.pop()
      if (length > 0) entities.push({ type: 'pre', offset: open.offset, length, ...(last.language !== undefined ? { language: last.language } : {}) })
      return
    }
  }
  if (length === 0) return
  const entity: ParsedEntity = { type, offset: open.offset, length }
  if (open.tag === 'a') {
    if (open.arg === '') return
    entity.url = open.arg
  }
  if (open.tag === 'code' && open.arg !== '') entity.language = open.arg
  if (open.tag === 'tg-emoji') entity.custom_emoji_id = open.arg
  entities.push(entity)
}

/** Telegram trims whitespace around a message's text; entities are moved and clipped with it. */
function trimFormatted (text: string, entities: ParsedEntity[]): { text: string, entities: ParsedEntity[] } {
  const start = text.length - text.replace(/^[ \t\r\n]+/, '').length
  const trimmed = text.slice(start).replace(/[ \t\r\n]+$/, '')
  const out: ParsedEntity[] = []
  for (const e of entities) {
    const from = Math.max(0, e.offset - start)
    const to = Math.min(trimmed.length, e.offset + e.length - start)
    if (to > from) out.push({ ...e, offset: from, length: to - from })
  }
  out.sort((a, b) => a.offset - b.offset || b.length - a.length)
  return { text: trimmed, entities: out }
}

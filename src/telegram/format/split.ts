import { escapeHtml, htmlToText, tokenizeHtmlWithEnds } from './html.ts'
import type { HtmlToken } from './html.ts'

/**
 * Splits rendered Telegram HTML into messages of at most `limit` visible characters (UTF-16 code
 * units after entity parsing, as Telegram counts). Cuts prefer a paragraph break, then a line
 * break, then a space; only a word longer than a message is cut inside. A cut never falls inside a
 * tag, an entity or a surrogate pair. Tags open at a cut are closed at the end of one part and
 * reopened at the start of the next, so a long code block stays a code block in every part.
 *
 * The whitespace at a cut is dropped (Telegram trims each message anyway); every other character
 * of the input is in exactly one part, in order.
 */

export const TELEGRAM_TEXT_LIMIT = 4096

interface OpenTag { name: string, raw: string }

const isBlank = (t: HtmlToken | undefined): boolean =>
  t !== undefined && t.kind === 'char' && (t.text === ' ' || t.text === '\n' || t.text === '\t')

function nextChar (tokens: HtmlToken[], from: number): HtmlToken | undefined {
  for (let k = from; k < tokens.length; k++) if (tokens[k]?.kind === 'char') return tokens[k]
  return undefined
}

function applyTag (stack: OpenTag[], t: HtmlToken): void {
  if (t.kind === 'open') stack.push({ name: t.name, raw: t.raw })
  else if (t.kind === 'close') {
    const at = stack.findLastIndex((o) => o.name === t.name)
    if (at !== -1) stack.splice(at)
  }
}

function dropEmptyTags (html: string): string {
  let prev = ''
  let out = html
  while (prev !== out) {
    prev = out
    out = out.replace(/<([a-z][\w-]*)(?:\s[^>]*)?><\/\1>/g, '')
  }
  return out
}

interface Cut { at: number, skip: boolean, seen: number }

/** Where the part starting at `start` ends; `seen` is the last token the choice looked at. */
function chooseCut (tokens: HtmlToken[], start: number, limit: number): Cut | null {
  let vis = 0
  const best = { para: -1, line: -1, word: -1 }
  const offset = { para: 0, line: 0, word: 0 }
  let prevChar: HtmlToken | undefined
  for (let k = start; k < tokens.length; k++) {
    const t = tokens[k] as HtmlToken
    if (t.kind !== 'char') continue
    if (vis + t.text.length > limit) {
      const min = limit / 2
      for (const kind of ['para', 'line'] as const) if (best[kind] !== -1 && offset[kind] >= min) return { at: best[kind], skip: true, seen: k }
      if (best.word !== -1 && offset.word >= limit / 5) return { at: best.word, skip: true, seen: k }
      const any = Math.max(best.para, best.line, best.word)
      if (any !== -1) return { at: any, skip: true, seen: k }
      return { at: vis === 0 ? k + 1 : k, skip: false, seen: k }
    }
    if (vis > 0 && isBlank(t) && !isBlank(prevChar)) {
      if (t.text === '\n') {
        const next = nextChar(tokens, k + 1)
        const kind = next?.kind === 'char' && next.text === '\n' ? 'para' : 'line'
        best[kind] = k
        offset[kind] = vis
      } else {
        best.word = k
        offset.word = vis
      }
    }
    vis += t.text.length
    prevChar = t
  }
  return null
}

/** One part, and what an incremental splitter needs to know whether a longer input changes it. */
interface Part {
  html: string
  /** Only whitespace once shown: left out of the result. */
  blank: boolean
  /** Where its tokens start in the input, and the tags open there. */
  start: number
  stack: readonly OpenTag[]
  /** The input up to this index decided the part; Infinity when it ran to the end of the input. */
  seen: number
}

/** Splits `html` from index `base`, where the tags in `open` are open. */
function splitFrom (html: string, base: number, open: readonly OpenTag[], limit: number): Part[] {
  const { tokens, ends } = tokenizeHtmlWithEnds(base === 0 ? html : html.slice(base))
  const after = (k: number): number => k >= tokens.length ? Infinity : base + (ends[k] as number)
  const parts: Part[] = []
  let stack: OpenTag[] = [...open]
  let start = 0
  while (start < tokens.length) {
    const first = { start: base + (start === 0 ? 0 : ends[start - 1] as number), stack }
    const cut = chooseCut(tokens, start, limit)
    const end = cut === null ? tokens.length : cut.at
    let seen = cut === null ? Infinity : after(cut.seen)
    stack = [...stack]
    let out = stack.map((o) => o.raw).join('')
    for (let k = start; k < end; k++) {
      const t = tokens[k] as HtmlToken
      out += t.raw
      applyTag(stack, t)
    }
    out += [...stack].reverse().map((o) => `</${o.name}>`).join('')
    start = end
    if (cut?.skip === true) {
      // Drop the whitespace at the cut, and close tags that end inside it.
      while (start < tokens.length && (isBlank(tokens[start]) || tokens[start]?.kind === 'close')) {
        applyTag(stack, tokens[start] as HtmlToken)
        start++
      }
      // The first token kept was looked at too (or, at the end, the absence of one).
      seen = Math.max(seen, after(start))
    }
    const part = dropEmptyTags(out)
    parts.push({ html: part, blank: htmlToText(part).trim() === '', start: first.start, stack: first.stack, seen })
  }
  return parts
}

export function splitHtml (html: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  return splitFrom(html, 0, [], limit).filter((p) => !p.blank).map((p) => p.html)
}

export interface HtmlSplitter {
  /** Exactly `splitHtml(html, limit)`. */
  split: (html: string) => string[]
}

/**
 * `splitHtml` for a live reply that is rendered again at every edit: the parts an unchanged start
 * of the input fully decides are kept from the last call, and only the rest is split again, so an
 * edit costs the length of its last parts, not of the whole reply (docs/benchmarks.md, P3).
 */
export function createHtmlSplitter (limit = TELEGRAM_TEXT_LIMIT): HtmlSplitter {
  let previous = ''
  let parts: Part[] = []
  return {
    split (html) {
      // The last part that an unchanged prefix still decides; every part before it is kept too.
      let keep = 0
      for (let i = parts.length - 1; i >= 0; i--) {
        const seen = (parts[i] as Part).seen
        if (seen <= html.length && html.startsWith(previous.slice(0, seen))) { keep = i + 1; break }
      }
      const from = parts[keep]
      parts = keep === 0 || from === undefined
        ? splitFrom(html, 0, [], limit)
        : [...parts.slice(0, keep), ...splitFrom(html, from.start, from.stack, limit)]
      previous = html
      return parts.filter((p) => !p.blank).map((p) => p.html)
    }
  }
}

/** The same cuts for text sent without parse_mode. */
export function splitPlainText (text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  return splitHtml(escapeHtml(text), limit).map(htmlToText)
}

import type { Token, Tokens } from 'marked'
import { escapeAttr, escapeHtml } from './html.ts'

/**
 * Renders marked's lexer tokens as Telegram HTML. Only tags Telegram accepts are produced, every
 * piece of text is escaped, and raw HTML from the model is shown as text, never passed through.
 */

interface BlockContext {
  /** Inside a blockquote: Telegram cannot nest them, so inner quotes lose the tag. */
  inQuote: boolean
  listDepth: number
}

const top: BlockContext = { inQuote: false, listDepth: 0 }
const bullets = ['•', '◦', '▪'] as const
const safeHref = /^(?:https?:\/\/|tg:\/\/|mailto:)/i

function isSafeHref (href: string): boolean {
  const h = href.trim()
  return safeHref.test(h) && ![...h].some((c) => c.charCodeAt(0) < 0x20 || /\s/.test(c))
}

/** Renders one top-level block; '' for blocks that show nothing (blank lines, link definitions). */
export function renderBlock (token: Token, ctx: BlockContext = top): string {
  switch (token.type) {
    case 'space':
    case 'def':
      return ''
    case 'paragraph':
    case 'text':
      return renderInline((token as Tokens.Paragraph).tokens ?? [], token.text as string)
    case 'heading':
      return wrap('b', renderInline((token as Tokens.Heading).tokens, token.text as string))
    case 'code':
      return renderCode(token as Tokens.Code)
    case 'blockquote':
      return renderQuote(token as Tokens.Blockquote, ctx)
    case 'list':
      return renderList(token as Tokens.List, ctx)
    case 'table':
      return renderTable(token as Tokens.Table)
    case 'hr':
      return '──────────'
    case 'html':
      return escapeHtml((token as Tokens.HTML).text.replace(/\n+$/, ''))
    default:
      return escapeHtml(token.raw.replace(/\n+$/, ''))
  }
}

function wrap (tag: string, inner: string): string {
  return inner === '' ? '' : `<${tag}>${inner}</${tag}>`
}

function renderCode (token: Tokens.Code): string {
  const text = escapeHtml(token.text)
  const lang = (token.lang ?? '').trim().split(/\s+/)[0] ?? ''
  if (/^[\w+#.-]{1,32}$/.test(lang)) return `<pre><code class="language-${escapeAttr(lang)}">${text}</code></pre>`
  return `<pre>${text}</pre>`
}

function renderQuote (token: Tokens.Blockquote, ctx: BlockContext): string {
  const inner = renderBlocks(token.tokens, { ...ctx, inQuote: true }, '\n')
  return ctx.inQuote ? inner : wrap('blockquote', inner)
}

function renderBlocks (tokens: Token[], ctx: BlockContext, sep: string): string {
  return tokens.map((t) => renderBlock(t, ctx)).filter((s) => s !== '').join(sep)
}

function renderList (token: Tokens.List, ctx: BlockContext): string {
  const indent = '  '.repeat(ctx.listDepth)
  const start = typeof token.start === 'number' ? token.start : 1
  const inner: BlockContext = { ...ctx, listDepth: ctx.listDepth + 1 }
  const items = token.items.map((item, n) => {
    let marker = token.ordered ? `${start + n}.` : bullets[ctx.listDepth % bullets.length] as string
    if (item.task) marker += item.checked === true ? ' ☑' : ' ☐'
    const body = renderBlocks(item.tokens.filter((t) => t.type !== 'checkbox'), inner, '\n')
    return `${indent}${marker} ${body.replace(/^\s+/, '')}`
  })
  return items.join(token.loose ? '\n\n' : '\n')
}

function renderInline (tokens: Token[], fallback = ''): string {
  if (tokens.length === 0) return escapeHtml(fallback)
  let out = ''
  for (const t of tokens) out += renderInlineToken(t)
  return out
}

function renderInlineToken (token: Token): string {
  switch (token.type) {
    case 'text':
      return token.tokens !== undefined ? renderInline(token.tokens) : escapeHtml(token.text as string)
    case 'escape':
      return escapeHtml(token.text as string)
    case 'strong':
      return wrap('b', renderInline((token as Tokens.Strong).tokens))
    case 'em':
      return wrap('i', renderInline((token as Tokens.Em).tokens))
    case 'del':
      return wrap('s', renderInline((token as Tokens.Del).tokens))
    case 'codespan':
      return wrap('code', escapeHtml((token as Tokens.Codespan).text))
    case 'br':
      return '\n'
    case 'link': {
      const link = token as Tokens.Link
      const inner = renderInline(link.tokens) || escapeHtml(link.href)
      return isSafeHref(link.href) ? `<a href="${escapeAttr(link.href.trim())}">${inner}</a>` : inner
    }
    case 'image': {
      const image = token as Tokens.Image
      const label = escapeHtml(image.text || image.href)
      return isSafeHref(image.href) ? `<a href="${escapeAttr(image.href.trim())}">${label}</a>` : label
    }
    case 'checkbox':
      return ''
    default:
      // Raw inline HTML and anything unknown: shown as the model wrote it.
      return escapeHtml(token.raw)
  }
}

/** Inline tokens as plain text (table cells live inside <pre>, where formatting is lost anyway). */
function inlinePlain (tokens: Token[]): string {
  let out = ''
  for (const t of tokens) {
    if (t.type === 'br') out += ' '
    else if (t.type === 'image') out += (t as Tokens.Image).text
    else if ('tokens' in t && t.tokens !== undefined && t.tokens.length > 0) out += inlinePlain(t.tokens)
    else if (t.type === 'text' || t.type === 'escape' || t.type === 'codespan') out += t.text as string
    else out += t.raw
  }
  return out.replace(/\s*\n\s*/g, ' ')
}

function width (s: string): number {
  return [...s].length
}

function pad (s: string, w: number, align: 'center' | 'left' | 'right' | null): string {
  const gap = w - width(s)
  if (gap <= 0) return s
  if (align === 'right') return ' '.repeat(gap) + s
  if (align === 'center') return ' '.repeat(Math.floor(gap / 2)) + s + ' '.repeat(gap - Math.floor(gap / 2))
  return s + ' '.repeat(gap)
}

function renderTable (token: Tokens.Table): string {
  const rows = [token.header, ...token.rows].map((row) => row.map((cell) => inlinePlain(cell.tokens).trim()))
  const columns = token.header.length
  const widths = Array.from({ length: columns }, (_, c) => Math.max(1, ...rows.map((r) => width(r[c] ?? ''))))
  const line = (cells: string[]): string =>
    widths.map((w, c) => pad(cells[c] ?? '', w, token.align[c] ?? null)).join(' | ').replace(/\s+$/, '')
  const [header, ...body] = rows
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-')
  const text = [line(header ?? []), rule, ...body.map(line)].join('\n')
  return `<pre>${escapeHtml(text)}</pre>`
}

import { Lexer } from 'marked'
import type { Links, Token, TokensList } from 'marked'
import { healOpenInline } from './heal.ts'
import { renderBlock } from './render-tokens.ts'

/**
 * Markdown → Telegram HTML with marked's lexer and our own token renderer (render-tokens.ts).
 *
 * Streaming re-renders a growing reply many times, so the renderer is incremental: top-level blocks
 * that can no longer change are rendered once and cached; only the last two blocks are lexed and
 * rendered again. (Two, not one: text after a blank line can still join the block before it, e.g.
 * `1. a` + blank + `2. b` becomes one loose list.) A link definition in the open tail invalidates
 * the cache (it can turn earlier `[text]` into a link), so replies with definitions are rendered
 * whole until the definition is frozen too.
 */

export interface RenderOptions {
  /** Live display of a reply still being written: unclosed emphasis and code spans render closed. */
  streaming?: boolean
}

export interface RenderedBlocks {
  /** Blocks that later text cannot change (append-only while the source only grows). */
  frozen: readonly string[]
  /** The last blocks, still open. */
  open: string[]
}

export interface MarkdownRenderer {
  render: (markdown: string, options?: RenderOptions) => string
  renderBlocks: (markdown: string, options?: RenderOptions) => RenderedBlocks
}

const lexOptions = { gfm: true, breaks: false } as const
const noHeal = new Set(['code', 'html', 'space', 'def', 'hr', 'table'])

function lex (src: string, links: Links): TokensList {
  const lexer = new Lexer(lexOptions)
  lexer.tokens.links = { ...links }
  return lexer.lex(src)
}

function linksChanged (before: Links, after: Links): boolean {
  return Object.entries(after).some(([k, v]) => before[k]?.href !== v.href || before[k]?.title !== v.title)
}

/** Link definitions in a block, also those nested in list items and block quotes. */
function definitionsIn (token: Token): Array<{ tag: string, href: string, title: string }> {
  if (token.type === 'def') return [{ tag: token.tag as string, href: token.href as string, title: token.title as string }]
  const children: Token[] = [...((token as { tokens?: Token[] }).tokens ?? []), ...((token as { items?: Token[] }).items ?? [])]
  return children.flatMap(definitionsIn)
}

function normalize (markdown: string): string {
  return markdown.replace(/\r\n?/g, '\n')
}

export function createMarkdownRenderer (): MarkdownRenderer {
  let source = ''
  let frozen: string[] = []
  let frozenHtml = ''
  let links: Links = {}

  function reset (): void {
    source = ''
    frozen = []
    frozenHtml = ''
    links = {}
  }

  function freeze (html: string, raw: string): void {
    source += raw
    if (html === '') return
    frozen.push(html)
    frozenHtml = frozenHtml === '' ? html : `${frozenHtml}\n\n${html}`
  }

  function renderBlocks (markdown: string, options: RenderOptions = {}): RenderedBlocks {
    const src = normalize(markdown)
    if (!src.startsWith(source)) reset()
    let tail = src.slice(source.length)
    let tokens = lex(tail, links)
    if (source !== '' && linksChanged(links, tokens.links)) {
      reset()
      tail = src
      tokens = lex(tail, links)
    }
    const cacheable = tokens.reduce((n, t) => n + t.raw.length, 0) === tail.length
    const solid = tokens.flatMap((t, i) => t.type === 'space' ? [] : [i])
    const openFrom = cacheable && solid.length >= 2 ? solid[solid.length - 2] as number : 0
    for (const t of tokens.slice(0, openFrom)) {
      // Only definitions in frozen blocks are remembered: a half-written one must not stick.
      for (const def of definitionsIn(t)) if (!(def.tag in links)) links = { ...links, [def.tag]: { href: def.href, title: def.title } }
      freeze(renderBlock(t), t.raw)
    }
    return { frozen, open: renderOpen(tokens.slice(openFrom), tokens.links, options.streaming === true) }
  }

  function renderOpen (tokens: Token[], tailLinks: Links, streaming: boolean): string[] {
    const last = tokens.findLastIndex((t) => t.type !== 'space')
    const html: string[] = []
    tokens.forEach((t, i) => {
      if (streaming && i === last && !noHeal.has(t.type)) {
        const healed = healOpenInline(t.raw)
        if (healed !== t.raw) {
          for (const h of lex(healed, tailLinks)) html.push(renderBlock(h))
          return
        }
      }
      html.push(renderBlock(t))
    })
    return html.filter((h) => h !== '')
  }

  function render (markdown: string, options: RenderOptions = {}): string {
    const { open } = renderBlocks(markdown, options)
    const tail = open.join('\n\n')
    if (frozenHtml === '') return tail
    return tail === '' ? frozenHtml : `${frozenHtml}\n\n${tail}`
  }

  return { render, renderBlocks }
}

/** One-shot rendering of a finished reply. */
export function renderMarkdown (markdown: string, options: RenderOptions = {}): string {
  return createMarkdownRenderer().render(markdown, options)
}

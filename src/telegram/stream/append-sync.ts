import { tokenizeHtmlWithEnds, visibleLength } from '../format/html.ts'
import { splitHtml } from '../format/split.ts'
import type { ChatWriter } from './chat-writer.ts'
import type { InlineKeyboardMarkup } from './types.ts'

/**
 * Append mode (and the fallback when edits keep failing): the reply goes out as new messages, one
 * coalesced chunk at a time, never edited. A chunk is a run of finished top-level blocks (a block
 * cannot change once the next ones have started, see markdown.ts), so the messages rendered chunk
 * by chunk read exactly like the whole reply rendered at once. With `sentenceBreak` (the Python
 * version's `streaming.sentence_break`, on by default) a chunk may also end inside the block still
 * being written, after its last finished sentence: a long paragraph arrives sentence by sentence
 * instead of whole. Such a cut is only made outside every tag (never inside bold, a link or code),
 * so each side is well-formed HTML on its own.
 *
 * At the end the chat must hold exactly the final reply. Chunks whose pieces start the final reply
 * stay; from the first chunk that differs (the final text of a multi-turn run is only its last
 * turn) the messages are deleted and the rest of the final reply is sent.
 */

/** Where the reply continues: block `block`, from `offset` in its HTML. */
interface Position { block: number, offset: number }

/** What a chunk shows of one block. */
interface Piece {
  block: number
  /** The HTML shown. */
  html: string
  /**
   * The block's HTML up to where the next piece starts, as it was when sent: the block must still
   * read so (`whole`: be exactly so) for the piece to stand.
   */
  prefix: string
  whole: boolean
}

interface Chunk {
  pieces: Piece[]
  /** Where the next chunk starts. */
  end: Position
  parts: string[]
  /** Index of its first message in the writer. */
  first: number
  /** Parts already sent. */
  sent: number
}

export interface AppendSync {
  /**
   * Sends what is finished and not sent yet — the `frozen` blocks, and with sentence breaks the
   * finished sentences of the `writing` block — once there are `minChars` of it or the CLI went idle.
   */
  live: (frozen: readonly string[], writing: string | undefined, idle: boolean) => Promise<boolean>
  /** Makes the chat hold exactly `blocks`, with `markup` on the last message. */
  final: (blocks: readonly string[], markup?: InlineKeyboardMarkup) => Promise<void>
}

export interface AppendSyncOptions {
  writer: ChatWriter
  minChars: number
  maxChars: number
  /** Cut the block being written after its last finished sentence (default true). */
  sentenceBreak?: boolean
}

const sentenceEnd = new Set(['.', '!', '?'])
const isSpace = (text: string): boolean => /^\s$/u.test(text)

/**
 * The last sentence end in `html` at or after `from`, outside every tag: a `.`, `!` or `?` followed
 * by whitespace and then more text (the next sentence has begun). `cut` ends the sentence, `next`
 * is where the following text starts. Null when there is none.
 */
function lastSentenceEnd (html: string, from = 0): { cut: number, next: number } | null {
  const { tokens, ends } = tokenizeHtmlWithEnds(html)
  let depth = 0
  let found: { cut: number, next: number } | null = null
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t === undefined) continue
    if (t.kind === 'open') depth++
    else if (t.kind === 'close') depth = Math.max(0, depth - 1)
    else if (depth === 0 && sentenceEnd.has(t.text) && (ends[i] ?? 0) > from) {
      let j = i + 1
      while (tokens[j]?.kind === 'char' && isSpace((tokens[j] as { text: string }).text)) j++
      if (j > i + 1 && j < tokens.length) found = { cut: ends[i] as number, next: ends[j - 1] as number }
    }
  }
  return found
}

/** Whether `blocks` still read as `piece` says (a block that is still being written may have grown). */
function stands (piece: Piece, blocks: readonly string[]): boolean {
  const block = blocks[piece.block]
  if (block === undefined) return false
  return piece.whole ? block === piece.prefix : block.startsWith(piece.prefix)
}

export function createAppendSync ({ writer, minChars, maxChars, sentenceBreak = true }: AppendSyncOptions): AppendSync {
  const chunks: Chunk[] = []

  const covered = (): Position => chunks[chunks.length - 1]?.end ?? { block: 0, offset: 0 }

  /** How many leading chunks still agree with `blocks`. */
  function agreeing (blocks: readonly string[]): number {
    const n = chunks.findIndex((c) => !c.pieces.every((p) => stands(p, blocks)))
    return n === -1 ? chunks.length : n
  }

  function open (pieces: Piece[], end: Position): Chunk {
    // Index after every part of the earlier chunks, sent or not (one may still wait for a retry).
    const first = chunks.reduce((n, c) => n + c.parts.length, 0)
    const chunk = { pieces, end, parts: splitHtml(pieces.map((p) => p.html).join('\n\n')), first, sent: 0 }
    chunks.push(chunk)
    return chunk
  }

  async function complete (chunk: Chunk, markup?: InlineKeyboardMarkup): Promise<void> {
    for (let k = chunk.sent; k < chunk.parts.length; k++) {
      const last = k === chunk.parts.length - 1
      await writer.show(chunk.first + k, { html: chunk.parts[k] as string, ...(last && markup !== undefined ? { markup } : {}) })
      chunk.sent = k + 1
    }
  }

  /** The rest of the finished `blocks` from `from`, each piece whole. */
  function finishedPieces (blocks: readonly string[], from: Position): Piece[] {
    const out: Piece[] = []
    for (let b = from.block; b < blocks.length; b++) {
      const block = blocks[b] as string
      const html = block.slice(b === from.block ? from.offset : 0)
      if (html.trim() !== '') out.push({ block: b, html, prefix: block, whole: true })
    }
    return out
  }

  /** Pieces in messages of at most `maxChars` (a single piece above it is split when sent). */
  function groups (pieces: Piece[]): Piece[][] {
    const out: Piece[][] = []
    let size = 0
    for (const piece of pieces) {
      const n = visibleLength(piece.html)
      const current = out[out.length - 1]
      if (current !== undefined && size + 2 + n <= maxChars) {
        current.push(piece)
        size += 2 + n
      } else {
        out.push([piece])
        size = n
      }
    }
    return out
  }

  const after = (piece: Piece): Position => piece.whole ? { block: piece.block + 1, offset: 0 } : { block: piece.block, offset: piece.prefix.length }

  return {
    async live (frozen, writing, idle) {
      const known = writing === undefined ? frozen : [...frozen, writing]
      // If the rendered past changed under us (it rarely can), wait for the final reconcile.
      if (agreeing(known) !== chunks.length) return false
      let wrote = false
      for (const c of chunks) {
        if (c.sent < c.parts.length) {
          await complete(c)
          wrote = true
        }
      }
      const from = covered()
      const pending = finishedPieces(frozen, from)
      if (sentenceBreak && writing !== undefined) {
        const start = from.block === frozen.length ? from.offset : 0
        const end = lastSentenceEnd(writing, start)
        if (end !== null) pending.push({ block: frozen.length, html: writing.slice(start, end.cut), prefix: writing.slice(0, end.next), whole: false })
      }
      const chars = pending.reduce((n, p) => n + visibleLength(p.html), 0)
      if (pending.length === 0 || (chars < minChars && !idle)) return wrote
      for (const group of groups(pending)) await complete(open(group, after(group[group.length - 1] as Piece)))
      return true
    },
    async final (blocks, markup) {
      const keep = agreeing(blocks)
      const firstDropped = chunks[keep]
      if (firstDropped !== undefined) {
        writer.deleteLater(writer.dropFrom(firstDropped.first))
        chunks.length = keep
      }
      const rest = finishedPieces(blocks, covered())
      if (rest.length > 0) open(rest, after(rest[rest.length - 1] as Piece))
      for (const [i, c] of chunks.entries()) await complete(c, i === chunks.length - 1 ? markup : undefined)
      const last = chunks[chunks.length - 1]
      if (markup !== undefined && last !== undefined) {
        // Already complete before (sent live): the keyboard goes on by an edit.
        await writer.show(last.first + last.parts.length - 1, { html: last.parts[last.parts.length - 1] as string, markup })
      }
    }
  }
}

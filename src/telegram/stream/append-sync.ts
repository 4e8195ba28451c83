import { visibleLength } from '../format/html.ts'
import { splitHtml } from '../format/split.ts'
import type { ChatWriter } from './chat-writer.ts'
import type { InlineKeyboardMarkup } from './types.ts'

/**
 * Append mode (and the fallback when edits keep failing): the reply goes out as new messages, one
 * coalesced chunk at a time, never edited. A chunk is a run of finished top-level blocks (a block
 * cannot change once the next ones have started, see markdown.ts), so the messages rendered chunk
 * by chunk read exactly like the whole reply rendered at once.
 *
 * At the end the chat must hold exactly the final reply. Chunks whose blocks start the final reply
 * stay; from the first chunk that differs (the final text of a multi-turn run is only its last
 * turn) the messages are deleted and the rest of the final reply is sent.
 */

interface Chunk {
  blocks: string[]
  parts: string[]
  /** Index of its first message in the writer. */
  first: number
  /** Parts already sent. */
  sent: number
}

export interface AppendSync {
  /** Sends finished blocks not sent yet, once there are `minChars` of them or the CLI went idle. */
  live: (frozen: readonly string[], idle: boolean) => Promise<boolean>
  /** Makes the chat hold exactly `blocks`, with `markup` on the last message. */
  final: (blocks: readonly string[], markup?: InlineKeyboardMarkup) => Promise<void>
}

export interface AppendSyncOptions {
  writer: ChatWriter
  minChars: number
  maxChars: number
}

function sameBlocks (a: readonly string[], b: readonly string[], from: number): boolean {
  return a.every((block, i) => b[from + i] === block)
}

export function createAppendSync ({ writer, minChars, maxChars }: AppendSyncOptions): AppendSync {
  const chunks: Chunk[] = []

  const covered = (): number => chunks.reduce((n, c) => n + c.blocks.length, 0)

  /** How many leading chunks still agree with `blocks`. */
  function agreeing (blocks: readonly string[]): number {
    let at = 0
    let n = 0
    for (const c of chunks) {
      if (!sameBlocks(c.blocks, blocks, at)) break
      at += c.blocks.length
      n++
    }
    return n
  }

  function open (blocks: string[]): Chunk {
    // Index after every part of the earlier chunks, sent or not (one may still wait for a retry).
    const first = chunks.reduce((n, c) => n + c.parts.length, 0)
    const chunk = { blocks, parts: splitHtml(blocks.join('\n\n')), first, sent: 0 }
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

  function groups (blocks: string[]): string[][] {
    const out: string[][] = []
    let size = 0
    for (const block of blocks) {
      const n = visibleLength(block)
      const current = out[out.length - 1]
      if (current !== undefined && size + 2 + n <= maxChars) {
        current.push(block)
        size += 2 + n
      } else {
        out.push([block])
        size = n
      }
    }
    return out
  }

  return {
    async live (frozen, idle) {
      // If the rendered past changed under us (it rarely can), wait for the final reconcile.
      if (agreeing(frozen) !== chunks.length) return false
      let wrote = false
      for (const c of chunks) {
        if (c.sent < c.parts.length) {
          await complete(c)
          wrote = true
        }
      }
      const pending = frozen.slice(covered())
      const chars = pending.reduce((n, b) => n + visibleLength(b), 0)
      if (pending.length === 0 || (chars < minChars && !idle)) return wrote
      for (const group of groups(pending)) await complete(open(group))
      return true
    },
    async final (blocks, markup) {
      const keep = agreeing(blocks)
      const firstDropped = chunks[keep]
      if (firstDropped !== undefined) {
        writer.deleteLater(writer.dropFrom(firstDropped.first))
        chunks.length = keep
      }
      const rest = blocks.slice(covered())
      if (rest.length > 0) open(rest)
      for (const [i, c] of chunks.entries()) await complete(c, i === chunks.length - 1 ? markup : undefined)
      const last = chunks[chunks.length - 1]
      if (markup !== undefined && last !== undefined) {
        // Already complete before (sent live): the keyboard goes on by an edit.
        await writer.show(last.first + last.parts.length - 1, { html: last.parts[last.parts.length - 1] as string, markup })
      }
    }
  }
}

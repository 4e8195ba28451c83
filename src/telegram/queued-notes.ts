import { open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logger-types.ts'
import { writeFileAtomic } from '../atomic-json.ts'

/**
 * The "⏳ Queued" notes (with a Cancel button) shown in the chats for messages waiting behind a
 * running one, kept in `state/queued-notes.jsonl` until they are resolved (deleted when the message
 * starts, edited when it is dropped), so that a note a crash or a stop left behind is cleaned up by
 * the next start instead of keeping a dead button for ever (ADR 0050 §3). One line per change:
 *
 *   {"s":[111,42]}   note 42 in chat 111 was shown
 *   {"r":[111,42]}   …and resolved
 *
 * A line is one write(2), not synced: a `kill -9` of the service keeps it (an OS crash may lose the
 * last second, and then a note stays as before). The file is rewritten at each start with only the
 * notes still unresolved, so it holds one life's notes at most.
 */
export interface QueuedNote { chatId: number, messageId: number }

export interface QueuedNotes {
  shown: (note: QueuedNote) => void
  resolved: (note: QueuedNote) => void
  /** The notes an earlier life showed and never resolved (read before this life wrote any). */
  earlier: () => Promise<QueuedNote[]>
  close: () => Promise<void>
}

const fileOf = (stateDir: string): string => join(stateDir, 'queued-notes.jsonl')

function isNote (value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n))
}

/** Notes shown and not resolved, in the order they were shown. */
export function unresolvedNotes (text: string): QueuedNote[] {
  const open = new Map<string, QueuedNote>()
  for (const line of text.split('\n')) {
    let rec: { s?: unknown, r?: unknown }
    try {
      rec = JSON.parse(line) as { s?: unknown, r?: unknown }
    } catch {
      continue // an empty or torn line
    }
    if (isNote(rec.s)) open.set(rec.s.join(':'), { chatId: rec.s[0], messageId: rec.s[1] })
    else if (isNote(rec.r)) open.delete(rec.r.join(':'))
  }
  return [...open.values()]
}

export function queuedNotes (stateDir: string, logger: Logger): QueuedNotes {
  const path = fileOf(stateDir)
  let stale: QueuedNote[] = []
  let handle: FileHandle | null = null
  // Every write waits for the file to be read and rewritten: this life's lines go after the earlier one's.
  let chain: Promise<void> = (async () => {
    const text = await readFile(path, 'utf8').catch(() => '')
    stale = unresolvedNotes(text)
    if (text !== '') await writeFileAtomic(path, Buffer.from(stale.map((n) => `{"s":[${n.chatId},${n.messageId}]}\n`).join('')))
    handle = await open(path, 'a', 0o600)
  })().catch((err: unknown) => { logger.warn({ err, path }, 'could not open the queued notes file; notes a crash leaves behind are not cleaned up') })
  const opened = chain
  let closed = false

  const write = (kind: 's' | 'r', note: QueuedNote): void => {
    if (closed) return
    chain = chain.then(async () => {
      await handle?.write(`{"${kind}":[${note.chatId},${note.messageId}]}\n`)
    }).catch((err: unknown) => { logger.warn({ err, path }, 'could not record a queued note') })
  }

  return {
    shown: (note) => { write('s', note) },
    resolved: (note) => { write('r', note) },
    earlier: async () => { await opened; return stale },
    async close () {
      closed = true
      await chain
      await handle?.close().catch(() => {})
      handle = null
    }
  }
}

/**
 * Incremental JSONL reader shared by both stream parsers. Fed raw stdout chunks split anywhere
 * (mid-line, inside a multi-byte character), it hands each complete line, parsed, to `onObject`.
 *
 * Lines are cut on the byte 0x0A, which never occurs inside a UTF-8 sequence, and decoded only
 * once they are whole, so a split character is never mangled: the whole lines of a chunk (up to
 * its last newline) are decoded in one call and cut as text, which costs far less than one
 * decode per line when lines are short (Codex). A partial line is kept as a list of pieces and
 * joined when its newline arrives. A line longer than `maxLineBytes` is dropped (reported once), so garbage
 * without newlines cannot grow memory.
 */

export interface MalformedLine {
  /** The start of the offending line (at most 200 characters). */
  excerpt: string
  reason: string
}

export interface JsonlReaderOptions {
  onObject: (value: Record<string, unknown>) => void
  onMalformed?: (info: MalformedLine) => void
  /** Longest line kept, in bytes; default 32 MiB (a Claude line can carry a large tool result). */
  maxLineBytes?: number
}

export interface JsonlReader {
  write: (chunk: Uint8Array | string) => void
  /** Parses a last line that had no newline. */
  end: () => void
}

const NEWLINE = 0x0a
const OPEN_BRACE = 0x7b
const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024

export function createJsonlReader (options: JsonlReaderOptions): JsonlReader {
  const { onObject, onMalformed } = options
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  let pending: Buffer[] = []
  let pendingBytes = 0
  let discarding = false

  function handleLine (line: string): void {
    // Fast path, almost every line: a JSON object starting at the first byte. JSON.parse skips
    // the trailing blanks itself and can only return an object here (or throw).
    // A malformed line falls through to the careful path below, which reports it.
    if (line.charCodeAt(0) === OPEN_BRACE) {
      let parsed: Record<string, unknown> | undefined
      try {
        parsed = JSON.parse(line) as Record<string, unknown>
      } catch {}
      if (parsed !== undefined) {
        onObject(parsed)
        return
      }
    }
    let start = 0
    let end = line.length
    while (start < end && isSpace(line.charCodeAt(start))) start++
    while (end > start && isSpace(line.charCodeAt(end - 1))) end--
    if (start === end) return
    const text = start === 0 && end === line.length ? line : line.slice(start, end)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      onMalformed?.({ excerpt: text.slice(0, 200), reason: (err as Error).message })
      return
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      onMalformed?.({ excerpt: text.slice(0, 200), reason: 'not a JSON object' })
      return
    }
    onObject(value as Record<string, unknown>)
  }

  /** `text` holds whole lines separated by "\n" (no newline at its end). */
  function handleLines (text: string): void {
    let from = 0
    let nl = text.indexOf('\n')
    while (nl !== -1) {
      if (nl > from) handleLine(text.slice(from, nl))
      from = nl + 1
      nl = text.indexOf('\n', from)
    }
    if (from < text.length) handleLine(text.slice(from))
  }

  function write (chunk: Uint8Array | string): void {
    const buf = typeof chunk === 'string'
      ? Buffer.from(chunk, 'utf8')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let start = 0
    const lastNl = buf.lastIndexOf(NEWLINE)
    if (lastNl !== -1) {
      if (discarding || pendingBytes > 0) {
        // The first newline ends the line begun in an earlier chunk.
        const nl = buf.indexOf(NEWLINE)
        if (discarding) {
          discarding = false
        } else {
          pending.push(buf.subarray(0, nl))
          const line = Buffer.concat(pending, pendingBytes + nl).toString('utf8')
          pending = []
          pendingBytes = 0
          handleLine(line)
        }
        start = nl + 1
      }
      // Every line up to the last newline is whole: decode them in one call, then cut the text.
      if (lastNl > start) handleLines(buf.toString('utf8', start, lastNl))
      start = lastNl + 1
    }
    if (start >= buf.length || discarding) return
    const restBytes = buf.length - start
    if (pendingBytes + restBytes > maxLineBytes) {
      onMalformed?.({ excerpt: '', reason: `line longer than ${maxLineBytes} bytes dropped` })
      pending = []
      pendingBytes = 0
      discarding = true
      return
    }
    // Copy: the caller may reuse its buffer, and a small copy frees the big chunk.
    pending.push(Buffer.from(buf.subarray(start)))
    pendingBytes += restBytes
  }

  function end (): void {
    if (pendingBytes > 0 && !discarding) {
      const line = Buffer.concat(pending, pendingBytes).toString('utf8')
      pending = []
      pendingBytes = 0
      handleLine(line)
    }
    pending = []
    pendingBytes = 0
    discarding = false
  }

  return { write, end }
}

function isSpace (code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10 || code === 0xfeff
}

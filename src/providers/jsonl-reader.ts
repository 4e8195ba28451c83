/**
 * Incremental JSONL reader shared by both stream parsers. Fed raw stdout chunks split anywhere
 * (mid-line, inside a multi-byte character), it hands each complete line, parsed, to `onObject`.
 *
 * Lines are cut on the byte 0x0A, which never occurs inside a UTF-8 sequence, and decoded only
 * once they are whole, so a split character is never mangled. Each byte is scanned once
 * (`indexOf` on the new chunk only); a partial line is kept as a list of pieces and joined when
 * its newline arrives. A line longer than `maxLineBytes` is dropped (reported once), so garbage
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
const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024

export function createJsonlReader (options: JsonlReaderOptions): JsonlReader {
  const { onObject, onMalformed } = options
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  let pending: Buffer[] = []
  let pendingBytes = 0
  let discarding = false

  function handleLine (line: string): void {
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

  function write (chunk: Uint8Array | string): void {
    const buf = typeof chunk === 'string'
      ? Buffer.from(chunk, 'utf8')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let start = 0
    let nl = buf.indexOf(NEWLINE, start)
    while (nl !== -1) {
      if (discarding) {
        discarding = false
      } else if (pendingBytes > 0) {
        pending.push(buf.subarray(start, nl))
        const line = Buffer.concat(pending, pendingBytes + nl - start).toString('utf8')
        pending = []
        pendingBytes = 0
        handleLine(line)
      } else if (nl > start) {
        handleLine(buf.toString('utf8', start, nl))
      }
      start = nl + 1
      nl = buf.indexOf(NEWLINE, start)
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

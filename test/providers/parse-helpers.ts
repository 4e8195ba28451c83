/** Feeding fixture transcripts to a stream parser, whole or in chunks. */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CliEvent, CliResult } from '../../src/providers/events.ts'
import type { MalformedLine } from '../../src/providers/jsonl-reader.ts'
import type { StreamParser, StreamParserOptions } from '../../src/providers/stream-parser.ts'

export const FIXTURES = fileURLToPath(new URL('../fixtures/cli/', import.meta.url))

export type ParserFactory = (options: StreamParserOptions) => StreamParser

export interface Parsed {
  events: CliEvent[]
  result: CliResult
  malformed: MalformedLine[]
  sawOutput: boolean
}

export function fixture (name: string): Buffer {
  return readFileSync(join(FIXTURES, name))
}

/** Fixture transcripts whose names start with `prefix` (stdout captures: .jsonl and .json). */
export function fixtureNames (prefix: string): string[] {
  return readdirSync(FIXTURES).filter((n) => n.startsWith(prefix) && /\.jsonl?$/.test(n)).sort()
}

/** Parses `data`, cut into chunks of the given sizes (cycled), or whole. A fixed clock. */
export function parse (factory: ParserFactory, data: Buffer | string, chunkSizes: number[] = []): Parsed {
  const events: CliEvent[] = []
  const malformed: MalformedLine[] = []
  const parser = factory({ onEvent: (e) => events.push(e), onMalformed: (m) => malformed.push(m), now: () => 1000 })
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  if (chunkSizes.length === 0) {
    parser.write(bytes)
  } else {
    let offset = 0
    for (let i = 0; offset < bytes.length; i++) {
      const size = chunkSizes[i % chunkSizes.length] ?? 1
      parser.write(bytes.subarray(offset, offset + size))
      offset += size
    }
  }
  const result = parser.end()
  return { events, result, malformed, sawOutput: parser.sawOutput() }
}

export function textOf (events: CliEvent[]): string {
  return events.map((e) => e.type === 'text' ? e.text : '').join('')
}

export function ofType<T extends CliEvent['type']> (events: CliEvent[], type: T): Array<Extract<CliEvent, { type: T }>> {
  return events.filter((e): e is Extract<CliEvent, { type: T }> => e.type === type)
}

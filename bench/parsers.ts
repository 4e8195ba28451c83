// P6: the stream parsers (src/providers) over a large transcript built by repeating the middle
// lines of recorded fixtures (test/fixtures/cli), fed in 64 KB chunks as a pipe delivers them.
// Throughput in MB/s against the floor of any JSONL parser (cut lines + JSON.parse, same bytes),
// and the heap's peak growth while parsing 4, 16 and 64 MB (flat = memory does not grow with size).
// At 64 MB parser and floor alternate, five rounds; the ratio is the median of the rounds' ratios.
// Run alone: node --expose-gc --import tsx bench/parsers.ts
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClaudeStreamParser } from '../src/providers/claude-stream.ts'
import { createCodexStreamParser } from '../src/providers/codex-stream.ts'
import type { StreamParser, StreamParserOptions } from '../src/providers/stream-parser.ts'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { ROOT } from './lib/service.ts'
import { median } from './lib/stats.ts'

const MB = 1024 * 1024
const CHUNK = 64 * 1024
const SIZES_MB = [4, 16, 64]
const REPEATS = 5

const fixtures = {
  claude: { file: 'claude-partial-tool.jsonl', create: createClaudeStreamParser },
  codex: { file: 'codex-exec-tool.jsonl', create: createCodexStreamParser }
} as const

/** First line, the middle lines repeated up to `bytes`, last line. */
function transcript (file: string, bytes: number): Buffer {
  const lines = readFileSync(join(ROOT, 'test', 'fixtures', 'cli', file), 'utf8').split('\n').filter((l) => l.trim() !== '')
  const first = lines[0] as string
  const last = lines.at(-1) as string
  const middle = lines.slice(1, -1).join('\n') + '\n'
  const times = Math.max(1, Math.ceil((bytes - first.length - last.length) / Buffer.byteLength(middle)))
  return Buffer.from(`${first}\n${middle.repeat(times)}${last}\n`)
}

const gc = (): void => { (globalThis as { gc?: () => void }).gc?.() }

interface Pass { mbPerS: number, peakHeapMb: number, events: number }

function parse (create: (o: StreamParserOptions) => StreamParser, data: Buffer): Pass {
  let events = 0
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  let peak = heapBefore
  const parser = create({ onEvent: () => { events++ } })
  const started = process.hrtime.bigint()
  for (let at = 0, n = 0; at < data.length; at += CHUNK, n++) {
    parser.write(data.subarray(at, at + CHUNK))
    if (n % 16 === 15) peak = Math.max(peak, process.memoryUsage().heapUsed)
  }
  parser.end()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  return { mbPerS: data.length / MB / seconds, peakHeapMb: (peak - heapBefore) / MB, events }
}

/** The floor: cut the same chunks into lines and JSON.parse each, nothing else. */
function bareJsonl (data: Buffer): number {
  let pending: Buffer[] = []
  let count = 0
  const started = process.hrtime.bigint()
  for (let at = 0; at < data.length; at += CHUNK) {
    const chunk = data.subarray(at, at + CHUNK)
    let start = 0
    let nl = chunk.indexOf(10)
    while (nl !== -1) {
      const line = pending.length > 0 ? Buffer.concat([...pending, chunk.subarray(start, nl)]).toString() : chunk.toString('utf8', start, nl)
      pending = []
      if (line !== '') { JSON.parse(line); count++ }
      start = nl + 1
      nl = chunk.indexOf(10, start)
    }
    if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)))
  }
  if (count === 0) throw new Error('no lines')
  return data.length / MB / (Number(process.hrtime.bigint() - started) / 1e9)
}

export async function benchParsers (): Promise<BenchResult> {
  const result = emptyResult()
  if ((globalThis as { gc?: unknown }).gc === undefined) result.notes.push('P6: run with --expose-gc for exact heap figures.')
  const growth = { title: 'P6 cost growth: stream parsers by transcript size (heap = peak growth while parsing)', columns: ['parser', 'MB', 'MB/s', 'peak heap MB', 'events'], rows: [] as Array<Array<string | number>> }
  for (const [name, fx] of Object.entries(fixtures)) {
    const heaps: number[] = []
    let big: { speed: number, floor: number, ratio: number } | null = null
    for (const size of SIZES_MB) {
      const data = transcript(fx.file, size * MB)
      // Parser and floor take turns over the same bytes, so a burst of load from elsewhere on a
      // shared machine hits both; the ratio is the median of each round's own ratio.
      const passes: Pass[] = []
      const floors: number[] = []
      for (let round = 0; round < REPEATS; round++) {
        passes.push(parse(fx.create, data))
        if (size === SIZES_MB.at(-1)) floors.push(bareJsonl(data))
      }
      const speed = median(passes.map((p) => p.mbPerS))
      const heap = Math.max(...passes.map((p) => p.peakHeapMb))
      heaps.push(heap)
      growth.rows.push([name, size, speed, heap, passes[0]?.events ?? 0])
      if (size === SIZES_MB.at(-1)) big = { speed, floor: median(floors), ratio: median(passes.map((p, i) => p.mbPerS / (floors[i] ?? NaN))) }
      progress(`${name} ${size} MB: ${speed.toFixed(0)} MB/s, peak heap +${heap.toFixed(1)} MB`)
    }
    if (big !== null) {
      result.rows.push({
        id: 'P6',
        what: `${name} parser, ${SIZES_MB.at(-1)} MB transcript`,
        value: big.speed,
        unit: 'MB/s',
        target: '≥ 100 MB/s and ≥ 0.8× the floor',
        ok: big.speed >= 100 && big.ratio >= 0.8,
        baseline: { label: 'lines + JSON.parse', value: big.floor },
        ratio: big.ratio
      })
    }
    const flat = (heaps.at(-1) ?? 0) <= Math.max(8, 2 * (heaps[0] ?? 0))
    result.rows.push({
      id: 'P6',
      what: `${name} parser heap, ${SIZES_MB[0]} → ${SIZES_MB.at(-1)} MB`,
      value: heaps.at(-1) ?? NaN,
      unit: 'MB peak',
      target: 'flat in size',
      ok: flat,
      baseline: { label: `at ${SIZES_MB[0]} MB`, value: heaps[0] ?? NaN },
      ratio: (heaps.at(-1) ?? NaN) / (heaps[0] ?? NaN)
    })
  }
  result.growth.push(growth)
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchParsers())

import { fmt } from './stats.ts'

/** One row of the main table: a figure, its target, the baseline measured in the same run. */
export interface Row {
  id: string
  what: string
  value: number
  unit: string
  /** The target as written in issue 8, e.g. "≥ 100 MB/s". */
  target: string
  /** Whether the target holds (null: not judged, e.g. an extra figure). */
  ok: boolean | null
  baseline?: { label: string, value: number, unit?: string }
  /** value / baseline.value (or as stated in `ratioNote`). */
  ratio?: number
  note?: string
}

/** A cost-growth table: how a figure scales with load. */
export interface Growth {
  title: string
  columns: string[]
  rows: Array<Array<string | number>>
}

export interface BenchResult {
  rows: Row[]
  growth: Growth[]
  /** Lines printed after the tables (e.g. "needs the route"). */
  notes: string[]
}

export function emptyResult (): BenchResult {
  return { rows: [], growth: [], notes: [] }
}

function table (header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')
}

/** NaN (no figure) reaches run.ts as null through JSON. */
const cell = (v: string | number | null): string => typeof v === 'number' || v === null ? fmt(v) : v

/** The main table, as Markdown (readable on a terminal and pasteable into docs/benchmarks.md). */
export function renderRows (rows: Row[]): string {
  return table(['#', 'figure', 'value', 'target', 'baseline (same run)', 'ratio', 'ok'], rows.map((r) => [
    r.id,
    r.what,
    `${fmt(r.value)} ${r.unit}`.trim(),
    r.target,
    r.baseline === undefined ? '–' : `${r.baseline.label}: ${fmt(r.baseline.value)} ${r.baseline.unit ?? r.unit}`.trim(),
    r.ratio === undefined ? '–' : `${fmt(r.ratio)}×`,
    r.ok === null ? '' : r.ok ? 'ok' : 'NOT MET'
  ]))
}

export function renderGrowth (g: Growth): string {
  return `${g.title}\n\n${table(g.columns, g.rows.map((r) => r.map(cell)))}`
}

export function render (result: BenchResult): string {
  const parts = [renderRows(result.rows)]
  for (const g of result.growth) parts.push(renderGrowth(g))
  for (const n of result.notes) parts.push(n)
  return parts.join('\n\n')
}

/**
 * The end of every benchmark file: with `--json` (how bench/run.ts calls it) one JSON line on
 * stdout, else the tables for a person.
 */
export function output (result: BenchResult): void {
  if (process.argv.includes('--json')) process.stdout.write(`\n@@BENCH@@${JSON.stringify(result)}\n`)
  else process.stdout.write(render(result) + '\n')
}

/** Progress for a person watching; on stderr so --json output stays clean. */
export function progress (text: string): void {
  process.stderr.write(`  · ${text}\n`)
}

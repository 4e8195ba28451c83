/** Prints rows as an aligned text table (the human default) — `--json` prints the raw answer instead. */
export function table (rows: Array<Record<string, unknown>>, columns: Array<[key: string, title: string]>): string {
  if (rows.length === 0) return '(none)\n'
  const cell = (v: unknown): string => v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  const cells = rows.map((row) => columns.map(([key]) => cell(row[key]).replace(/\s+/g, ' ')))
  const widths = columns.map(([, title], i) => Math.min(60, Math.max(title.length, ...cells.map((r) => (r[i] ?? '').length))))
  const line = (values: string[]): string => values.map((v, i) => {
    const w = widths[i] ?? 0
    return (v.length > w ? v.slice(0, w - 1) + '…' : v).padEnd(w)
  }).join('  ').trimEnd()
  return [line(columns.map(([, title]) => title.toUpperCase())), ...cells.map(line)].join('\n') + '\n'
}

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** `--json` prints the API's answer as it is; otherwise the human text. */
export function printResult (opts: { json?: boolean }, value: unknown, text: () => string): void {
  if (opts.json === true) printJson(value)
  else process.stdout.write(text())
}

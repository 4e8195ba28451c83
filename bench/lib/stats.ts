/** Small statistics helpers for the benchmarks (no timing assertions anywhere: figures only). */

/** The p-th quantile (0..1) of `values` by nearest rank; NaN for none. */
export function quantile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

export function mean (values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length
}

/** A number for a table: a few significant digits, no exponent. */
export function fmt (value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–'
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000 || Number.isInteger(value)) return Math.round(value).toLocaleString('en-US')
  if (abs === 0) return '0'
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)))
  return value.toFixed(Math.min(decimals, 3))
}

export const ms = (hrStart: bigint): number => Number(process.hrtime.bigint() - hrStart) / 1e6

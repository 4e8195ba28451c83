// Journal throughput with group commit: N concurrent appenders, 2 KB payloads, real fdatasync.
// Prints figures only (no pass/fail). Run: node --import tsx bench/journal.ts [--dir <dir>] [--seconds <s>]
// --dir picks the disk to measure (default: the OS temp dir); each run uses a fresh file there.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createJournal } from '../src/store/journal.ts'

const { values } = parseArgs({ options: { dir: { type: 'string' }, seconds: { type: 'string', default: '2' } } })
const seconds = Number(values.seconds)
const base = await mkdtemp(join(values.dir ?? tmpdir(), 'ductor-bench-journal-'))
const payload = { update_id: 0, message: { text: 'x'.repeat(2048 - 40) } }

console.log(`journal bench: 2 KB payloads, ${seconds} s per run, in ${base}`)
console.log('appenders  appends/s  fsyncs/s  entries/fsync  p50 ms  p99 ms')
try {
  for (const concurrency of [1, 8, 32, 128]) {
    const path = join(base, `inbox-${concurrency}.jsonl`)
    const journal = await createJournal({ path })
    const latencies: number[] = []
    const end = performance.now() + seconds * 1000
    let n = 0
    async function appender (): Promise<void> {
      while (performance.now() < end) {
        const started = performance.now()
        const { seq } = await journal.append({ kind: 'telegram', key: String(n), payload: { ...payload, update_id: n++ } })
        latencies.push(performance.now() - started)
        journal.markFinished(seq)
      }
    }
    const started = performance.now()
    await Promise.all(Array.from({ length: concurrency }, appender))
    const elapsed = (performance.now() - started) / 1000
    const stats = journal.stats()
    await journal.close()
    latencies.sort((a, b) => a - b)
    const pct = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0).toFixed(2)
    console.log([
      String(concurrency).padStart(9),
      Math.round(stats.appends / elapsed).toString().padStart(10),
      Math.round(stats.syncs / elapsed).toString().padStart(9),
      (stats.appends / Math.max(1, stats.syncs)).toFixed(1).padStart(14),
      pct(0.5).padStart(7),
      pct(0.99).padStart(7)
    ].join(' '))
  }
} finally {
  await rm(base, { recursive: true, force: true })
}

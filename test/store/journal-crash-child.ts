// Child process for the journal crash test: appends forever from many concurrent writers and prints
// `a <seq> <size>` for each acknowledged entry and `d <seq>` for each one it marked done. The test
// kills it with SIGKILL at a random moment. Run: node --import tsx journal-crash-child.ts <journal path>
import { createJournal } from '../../src/store/journal.ts'

const path = process.argv[2]
if (path === undefined) throw new Error('usage: journal-crash-child.ts <journal path>')
const journal = await createJournal({ path, lazySyncMs: 5 })
// Pipes to the parent are synchronous on Linux: once printed, the parent will see the line.

let n = 0
async function writer (id: number): Promise<void> {
  for (;;) {
    n++
    // Mostly small, sometimes up to 256 KB, so that big writes are in flight when the kill lands.
    const size = n % 7 === 0 ? 256 * 1024 : 64 + ((n * 7919) % 16000)
    const key = `${process.pid}-${id}-${n}`
    const { seq } = await journal.append({ kind: n % 2 === 0 ? 'webhook' : 'telegram', key, payload: { key, size, body: 'x'.repeat(size) } })
    process.stdout.write(`a ${seq} ${size}\n`)
    if (seq % 3 === 0) {
      journal.markFinished(seq)
      process.stdout.write(`d ${seq}\n`)
    }
  }
}
await Promise.all(Array.from({ length: 24 }, (_, i) => writer(i)))

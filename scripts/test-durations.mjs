// A node:test reporter for `node scripts/run-tests.mjs --record-durations`: sums each test file's
// top-level test durations (seconds) and merges them into test/durations.json (files that no longer
// exist are dropped), which run-tests.mjs uses to balance its groups and to start the longest work first.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

export default async function * durations (source) {
  const perFile = {}
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const { file, nesting, details } = event.data
    if (nesting !== 0 || typeof file !== 'string') continue
    const path = file.slice(file.lastIndexOf('/test/') + 1)
    perFile[path] = (perFile[path] ?? 0) + (details?.duration_ms ?? 0) / 1000
  }
  let before = {}
  try { before = JSON.parse(readFileSync('test/durations.json', 'utf8')) } catch {}
  const merged = { ...before }
  for (const [path, seconds] of Object.entries(perFile)) merged[path] = Math.round(seconds * 10) / 10
  const kept = Object.entries(merged).filter(([path]) => existsSync(path)).sort(([a], [b]) => a.localeCompare(b))
  // Written here, not through the reporter's destination: node truncates that before the run.
  writeFileSync('test/durations.json', JSON.stringify(Object.fromEntries(kept), null, 1) + '\n')
  yield `durations of ${Object.keys(perFile).length} test files written to test/durations.json\n`
}

#!/usr/bin/env node
// `npm start` and `npm pack` build only when a source is newer than the last build: compiling
// everything takes most of a minute on a small machine, checking the dates a few milliseconds.
// A stale or missing dist/ is rebuilt with tsc (incremental: only what changed is emitted again).
// One build at a time per checkout (a lock directory in the temp folder; one whose holder died is
// taken over): the test runner starts it as the tests start, and the tests that spawn the built
// `ductor`, `npm start` and `npm pack` wait for it instead of compiling the same files at once.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const lock = join(tmpdir(), `ductor-build-lock-${createHash('sha256').update(root).digest('hex').slice(0, 16)}`)

function holderGone () {
  let pid = 0
  try { pid = Number(readFileSync(join(lock, 'pid'), 'utf8')) } catch {}
  if (pid === 0) {
    // Its holder is about to write its pid, or died before it did (then the lock is old).
    const made = statSync(lock, { throwIfNoEntry: false })
    return made !== undefined && Date.now() - made.mtimeMs > 30_000
  }
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return err.code === 'ESRCH'
  }
}

let locked = false
for (;;) {
  try {
    mkdirSync(lock)
    locked = true
    writeFileSync(join(lock, 'pid'), String(process.pid))
    break
  } catch (err) {
    // No usable temp folder: build without the lock, as before it existed.
    if (err.code !== 'EEXIST') break
  }
  if (holderGone()) rmSync(lock, { recursive: true, force: true })
  else await sleep(100)
}
if (locked) process.on('exit', () => { rmSync(lock, { recursive: true, force: true }) })
const stamp = join(root, 'dist', '.build-stamp')
const inputs = ['src', 'plugins', 'routes', 'tsconfig.json', 'tsconfig.build.json', 'package.json']

function newest (path) {
  const info = statSync(path, { throwIfNoEntry: false })
  if (info === undefined) return 0
  if (!info.isDirectory()) return info.mtimeMs
  let max = info.mtimeMs
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)))
  return max
}

const built = existsSync(join(root, 'dist', 'src', 'cli', 'entry.js')) ? (statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0) : 0
const changed = Math.max(...inputs.map((p) => newest(join(root, p))))
if (built >= changed) {
  process.stderr.write('ductor: the build in dist/ is up to date\n')
  process.exit(0)
}
// Without the entry point the incremental state would claim everything is emitted: start afresh.
if (built === 0) rmSync(join(root, 'dist'), { recursive: true, force: true })
process.stderr.write('ductor: building dist/ (sources changed since the last build)…\n')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
if (!existsSync(tsc)) {
  process.stderr.write('ductor: TypeScript is not installed; run `npm ci` first\n')
  process.exit(1)
}
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
if (result.status !== 0) process.exit(result.status ?? 1)
writeFileSync(stamp, new Date().toISOString() + '\n')

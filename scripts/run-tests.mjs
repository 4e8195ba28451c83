#!/usr/bin/env node
// Runs every test/**/*.test.ts through node:test with tsx. Node 20 has no glob in `--test`,
// so the files are listed here. Extra arguments are passed on (e.g. a file or --test-name-pattern).
//
// Each process of its own costs ~2 s of CPU before its first test (tsx and the service's modules), so
// the test files share a few processes: each group is one entry module importing its files in turn
// (node:test runs their top-level tests one after another, each file's hooks in its own tests). Only
// a file that touches process-wide state (signal handlers, process.env, the clock, the heap) or says
// `// test: own process` keeps a process of its own; one that starts processes (spawnService, runCli,
// child_process) shares a group, as it cleans up after itself like any other. A file named on the
// command line always runs alone, as before.
//
// Most of the suite waits (timers, Telegram's pace, child processes), so more processes run at once
// than there are cores. What each file takes is in test/durations.json (`--record-durations`
// writes it): the groups get equal shares of it (the heaviest file into the lightest group), and the
// longest work starts first, so no long file starts last and runs alone at the end.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { spawn } from 'node:child_process'

function list (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : list(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

const OWN_PROCESS = /test: own process|memoryUsage|process\.on\(|process\.env\[[^\]]+\] =|process\.env\.[A-Z_]+ =|delete process\.env|process\.chdir|process\.umask|mock\.timers|process\.exit/
const GROUPS = Number(process.env.TEST_GROUPS ?? 10)
// Waiting work: 2.5 processes per core (5 on two cores) keep the cores busy.
const CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? Math.max(3, Math.round(availableParallelism() * 2.5)))
/** Seconds of CPU a test process spends before its first test. */
const PROCESS_COST = 2
const DURATIONS = 'test/durations.json'
/** `TEST_TIMELINE=<file>`: when each test process starts, ends its tests and exits (scripts/test-timeline.mjs). */
const TIMELINE = process.env.TEST_TIMELINE
const timeline = TIMELINE !== undefined && TIMELINE !== ''

// A folder argument (e.g. test/faults) runs the tests under it.
const isDir = (a) => { try { return statSync(a).isDirectory() } catch { return false } }
const record = process.argv.includes('--record-durations')
const dirs = process.argv.slice(2).filter(isDir)
const args = process.argv.slice(2).filter((a) => !isDir(a) && a !== '--record-durations')
const files = args.some((a) => a.endsWith('.ts')) ? [] : (dirs.length > 0 ? dirs.flatMap(list) : list('test')).sort()

// Seconds per file as last recorded; a file not in the list yet counts as the median one.
let durations = {}
try { durations = JSON.parse(readFileSync(DURATIONS, 'utf8')) } catch {}
const known = Object.values(durations).sort((a, b) => a - b)
const seconds = (f) => durations[f.split(sep).join('/')] ?? known[Math.floor(known.length / 2)] ?? 1

const alone = files.filter((f) => OWN_PROCESS.test(readFileSync(f, 'utf8')))
const shared = files.filter((f) => !alone.includes(f))
/** What node:test runs, each with the seconds it is expected to take. */
const entries = alone.map((f) => ({ path: f, seconds: seconds(f) + PROCESS_COST }))
let tmp
/** Each group's entry module and the files it imports (for the timeline). */
const groupFiles = new Map()
if (shared.length > 1 && GROUPS > 0) {
  tmp = mkdtempSync(join(tmpdir(), 'ductor-test-groups-'))
  // Longest processing time first: each file, the heaviest first, joins the lightest group so far.
  const groups = Array.from({ length: Math.min(GROUPS, shared.length) }, () => ({ files: [], seconds: PROCESS_COST }))
  for (const f of [...shared].sort((a, b) => seconds(b) - seconds(a) || a.localeCompare(b))) {
    const lightest = groups.reduce((min, g) => g.seconds < min.seconds ? g : min)
    lightest.files.push(f)
    lightest.seconds += seconds(f)
  }
  groups.forEach((group, i) => {
    const path = join(tmp, `shared-${i + 1}-of-${groups.length}.test.mjs`)
    const imports = group.files.sort().map((f) => `import ${JSON.stringify(pathToFileURL(resolve(f)).href)}\n`).join('')
    writeFileSync(path, `// ${group.files.length} test files sharing one process (scripts/run-tests.mjs), ~${Math.round(group.seconds)} s\n${imports}`)
    entries.push({ path, seconds: group.seconds })
    groupFiles.set(path, group.files.map((f) => f.split(sep).join('/')))
  })
} else {
  entries.push(...shared.map((f) => ({ path: f, seconds: seconds(f) + PROCESS_COST })))
}
// node:test starts the files in this order, CONCURRENCY at a time: the longest first.
entries.sort((a, b) => b.seconds - a.seconds)

const reporters = record
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${pathToFileURL(resolve('scripts/test-durations.mjs')).href}`, '--test-reporter-destination=stderr']
  : ['--test-reporter=spec']
const timelineModule = pathToFileURL(resolve('scripts/test-timeline.mjs')).href
if (timeline) {
  writeFileSync(TIMELINE, '')
  if (!record) reporters.push('--test-reporter-destination=stdout')
  reporters.push(`--test-reporter=${timelineModule}`, '--test-reporter-destination=stderr')
}
// The tests that spawn `ductor` run the build in dist/ (test/helper.ts builtDist): start it now,
// beside the first tests, so that it is ready (or nearly) when the first of them needs it. They wait
// for it (scripts/build-if-stale.mjs takes a lock), and a failed build fails them with its errors.
const needsBuild = files.some((f) => /spawnService\(|runCli\(|builtDist\(/.test(readFileSync(f, 'utf8')))
const build = needsBuild ? spawn(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: ['ignore', 'ignore', 'ignore'] }) : null
const built = build === null ? Promise.resolve() : new Promise((resolve) => { build.once('close', resolve) })
const runner = spawn(process.execPath, ['--import', 'tsx', ...(timeline ? ['--import', timelineModule] : []), '--test', ...reporters, `--test-concurrency=${CONCURRENCY}`, ...args, ...entries.map((e) => e.path)], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' }
})
const status = await new Promise((resolve) => { runner.once('close', (code) => { resolve(code) }) })
await built
if (timeline) process.stdout.write((await import(timelineModule)).summarize(TIMELINE, groupFiles))
if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true })
process.exit(status ?? 1)

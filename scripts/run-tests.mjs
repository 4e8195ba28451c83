#!/usr/bin/env node
// Runs every test/**/*.test.ts through node:test with tsx. Node 20 has no glob in `--test`,
// so the files are listed here. Extra arguments are passed on (e.g. a file or --test-name-pattern).
//
// Each process of its own costs ~2 s of CPU before its first test (tsx and the service's modules), so
// the files that only work in this process (build(), app.inject, the fakes) share a few processes:
// each group is one entry module importing its files in turn (node:test runs their top-level tests
// one after another, each file's hooks in its own tests). A file that touches process-wide state
// (signal handlers, process.env, the clock, the heap) or says `// test: own process` keeps a process
// of its own, and so does one that starts processes itself (spawnService, runCli, child_process:
// long waits, run beside the groups). A file named on the command line always runs alone, as
// before. The groups go first: they are the longest.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'

function list (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : list(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

const OWN_PROCESS = /test: own process|spawnService|runCli|node:child_process|memoryUsage|process\.on\(|process\.env\[[^\]]+\] =|process\.env\.[A-Z_]+ =|delete process\.env|process\.chdir|process\.umask|mock\.timers|process\.exit/
const GROUPS = Number(process.env.TEST_GROUPS ?? 6)

// A folder argument (e.g. test/faults) runs the tests under it.
const isDir = (a) => { try { return statSync(a).isDirectory() } catch { return false } }
const dirs = process.argv.slice(2).filter(isDir)
const args = process.argv.slice(2).filter((a) => !isDir(a))
const files = args.some((a) => a.endsWith('.ts')) ? [] : (dirs.length > 0 ? dirs.flatMap(list) : list('test')).sort()

const alone = files.filter((f) => OWN_PROCESS.test(readFileSync(f, 'utf8')))
const shared = files.filter((f) => !alone.includes(f))
const entries = []
let tmp
if (shared.length > 1 && GROUPS > 0) {
  tmp = mkdtempSync(join(tmpdir(), 'ductor-test-groups-'))
  // Round robin over the sorted files: each group gets a share of every folder (slow and quick alike).
  const groups = Array.from({ length: Math.min(GROUPS, shared.length) }, () => [])
  shared.forEach((f, i) => groups[i % groups.length].push(f))
  groups.forEach((group, i) => {
    const entry = join(tmp, `shared-${i + 1}-of-${groups.length}.test.mjs`)
    writeFileSync(entry, `// ${group.length} test files sharing one process (scripts/run-tests.mjs)\n${group.map((f) => `import ${JSON.stringify(pathToFileURL(resolve(f)).href)}\n`).join('')}`)
    entries.push(entry)
  })
} else {
  entries.push(...shared)
}

const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 3}`, ...args, ...entries, ...alone], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' }
})
if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true })
process.exit(result.status ?? 1)

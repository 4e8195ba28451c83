#!/usr/bin/env node
// Runs every test/**/*.test.ts through node:test with tsx. Node 20 has no glob in `--test`,
// so the files are listed here. Extra arguments are passed on (e.g. a file or --test-name-pattern).
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function list (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : list(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

// A folder argument (e.g. test/faults) runs the tests under it.
const isDir = (a) => { try { return statSync(a).isDirectory() } catch { return false } }
const dirs = process.argv.slice(2).filter(isDir)
const args = process.argv.slice(2).filter((a) => !isDir(a))
const files = args.some((a) => a.endsWith('.ts')) ? [] : (dirs.length > 0 ? dirs.flatMap(list) : list('test')).sort()
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 3}`, ...args, ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' }
})
process.exit(result.status ?? 1)

#!/usr/bin/env node
// `npm test`: lint, types and the import-cycle check, one after another, beside the tests
// (scripts/run-tests.mjs), which leave the cores idle while they wait for processes and timers. The
// checks' output is printed when they are done; `npm test` fails if any of them or the tests fail.
import { spawn } from 'node:child_process'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run (script, inherit) {
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', '--silent', script], { stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (d) => { output += d })
    child.stderr?.on('data', (d) => { output += d })
    child.on('close', (code, signal) => resolve({ script, code: code ?? (signal !== null ? 1 : 0), output }))
  })
}

const checks = (async () => {
  const results = []
  for (const script of ['lint', 'typecheck', 'check:cycles']) results.push(await run(script, false))
  return results
})()
const tests = await run('test:unit', true)
const results = [...await checks, tests]
for (const { script, code, output } of results.slice(0, -1)) {
  process.stdout.write(`\n> ${script}: ${code === 0 ? 'ok' : `failed (exit ${code})`}\n${output}`)
}
const failed = results.filter((r) => r.code !== 0).map((r) => r.script)
if (failed.length > 0) process.stdout.write(`\nnpm test: failed: ${failed.join(', ')}\n`)
process.exit(failed.length > 0 ? 1 : 0)

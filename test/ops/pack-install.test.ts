// ductor installs the way Node tools install (issue 16, item 7): `npm pack` builds and packs it,
// `npm install -g ./ductor-<version>.tgz` (here into a temporary prefix) gives a working `ductor`
// without the source or any dev dependency. Reuses the build in dist/ when it is up to date (builtDist).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { access, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT, builtDist, spawnService, tempDir } from '../helper.ts'

const run = promisify(execFile)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** The environment without npm's own variables (this test may run under `npm test`). */
function cleanEnv (extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v
  return { ...env, ...extra }
}

test('npm pack → npm install -g <tarball> --prefix <tmp> → a working `ductor --version` and `ductor serve`', { timeout: 900_000 }, async (t) => {
  const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  const out = await tempDir(t, 'ductor-pack-')
  // `npm pack` builds through prepack (build-if-stale); the build is the one the build and `npm start` tests share.
  await builtDist()
  const packed = await run(npm, ['pack', '--pack-destination', out, '--json'], { cwd: ROOT, env: cleanEnv({}), timeout: 600_000, maxBuffer: 16 * 1024 * 1024 })
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  assert.equal(info?.filename, `ductor-${version}.tgz`)
  const files = info.files.map((f) => f.path)
  assert.ok(files.includes('dist/src/cli/entry.js'), 'the build is in the package')
  assert.ok(files.includes('bin/ductor') && files.includes('bin/ductor-supervise.sh'), 'the launcher and the sh supervisor are in the package')
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests')

  const prefix = join(out, 'prefix')
  await run(npm, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(out, info.filename)],
    { cwd: out, env: cleanEnv({}), timeout: 600_000, maxBuffer: 16 * 1024 * 1024 })
  const installed = join(prefix, 'lib', 'node_modules', 'ductor')
  const deps = await readdir(join(installed, 'node_modules')).catch(() => [] as string[])
  for (const dev of ['tsx', 'typescript', 'eslint', '@anthropic-ai', '@openai']) assert.ok(!deps.includes(dev), `no dev dependency ${dev}`)
  const bin = join(prefix, 'bin', 'ductor')
  await access(bin)

  const home = await tempDir(t)
  // The global bin folder first on PATH, as after a real `npm install -g`; no checkout anywhere.
  const env = cleanEnv({ PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}`, DUCTOR_HOME: home, DUCTOR_PORT: '0' })
  const v = await run(bin, ['--version'], { cwd: home, env })
  assert.equal(v.stdout.trim(), version)

  // A bare `ductor` (not in a terminal: serve), as a user starts it: the npm link leads to the sh
  // launcher, whose shell supervises the service (ADR 46).
  const served = await spawnService(t, env, { command: [bin], args: [], supervisor: true, exactEnv: true, cwd: home })
  const svc = await served.up(90_000)
  assert.match(await readFile(`/proc/${served.child.pid ?? 0}/cmdline`, 'utf8'), /^\/bin\/sh\0\S*ductor-supervise\.sh\0--launch\0/, 'a shell supervises')
  assert.equal((await fetch(`${svc.url}/health`)).status, 200)
  await access(join(home, 'workspace', 'CLAUDE.md'))
  assert.equal(await served.stop(), 0, served.stderr())
  assert.match(served.stdout(), /First start on this home/)
})

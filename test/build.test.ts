import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, readFile, symlink, access } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT, builtDist, tempDir, spawnService } from './helper.ts'

test('`npm run build` output, laid out as the Dockerfile copies it, runs the service', { timeout: 300_000 } /* a full tsc build; minutes on a loaded 2-core machine */, async (t) => {
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8')
  for (const [, src] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) await access(join(ROOT, src ?? ''))
  for (const copied of ['dist', 'bin', 'templates', 'node_modules', 'package.json']) {
    assert.match(dockerfile, new RegExp(`COPY (--from=build /app/)?${copied}`), `the image gets ${copied}`)
  }

  const app = await tempDir(t, 'ductor-image-')
  // The build itself (`npm run build`'s tsc) is the one the `npm start` and pack tests use too: made once.
  await builtDist()
  await cp(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true })
  await cp(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true })
  await cp(join(ROOT, 'templates'), join(app, 'templates'), { recursive: true })
  await cp(join(ROOT, 'package.json'), join(app, 'package.json'))
  await symlink(join(ROOT, 'node_modules'), join(app, 'node_modules'))

  const home = await tempDir(t)
  const served = await spawnService(t, { PATH: process.env['PATH'], DUCTOR_HOME: home, DUCTOR_PORT: '0' }, { command: [process.execPath, join(app, 'bin', 'ductor.js')], exactEnv: true })
  const info = await served.up(30_000)
  assert.equal((await fetch(`${info.url}/health`)).status, 200)
  await access(join(home, 'workspace', 'CLAUDE.md'))
  assert.equal(await served.stop(), 0)
})

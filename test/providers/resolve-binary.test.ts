import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findExecutable, resolveCliBinary } from '../../src/providers/resolve-binary.ts'

test('finds an executable file on PATH, skipping non-executables and directories', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-which-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const first = join(dir, 'a')
  const second = join(dir, 'b')
  await mkdir(first)
  await mkdir(second)
  await writeFile(join(first, 'claude'), 'not executable')
  await writeFile(join(second, 'claude'), '#!/bin/sh\n')
  await chmod(join(second, 'claude'), 0o755)
  const pathEnv = [join(dir, 'missing'), 'relative/dir', first, second].join(':')
  assert.equal(findExecutable('claude', pathEnv), join(second, 'claude'))
  assert.equal(findExecutable('codex', pathEnv), null)
  assert.equal(resolveCliBinary('claude', { pathEnv }), join(second, 'claude'))
  assert.equal(resolveCliBinary('codex', { pathEnv }), 'codex', 'bare name: spawning it reports "not found"')
  assert.equal(resolveCliBinary('claude', { pathEnv, cliPaths: { claude: '/opt/claude' } }), '/opt/claude')
  assert.equal(resolveCliBinary('claude', { pathEnv, cliPaths: { claude: '' } }), join(second, 'claude'))
})

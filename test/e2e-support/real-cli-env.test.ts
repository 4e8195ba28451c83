import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertCliRuns, CLAUDE_BIN, CODEX_BIN, prepareRealCliEnvs } from './real-cli-env.ts'

test('both CLIs share one fresh HOME with a minimal env, and cleanup removes it and closes the fakes', async () => {
  const both = await prepareRealCliEnvs()
  try {
    assert.equal(both.claude.binPath, CLAUDE_BIN)
    assert.equal(both.codex.binPath, CODEX_BIN)
    assert.equal(both.claude.home, both.home)
    assert.equal(both.cwd, join(both.home, 'work'))
    assert.deepEqual(Object.keys(both.env).sort(), [
      'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'CLAUDE_CODE_MAX_RETRIES', 'CODEX_HOME',
      'DISABLE_TELEMETRY', 'FAKE_OPENAI_API_KEY', 'HOME', ...(process.getuid?.() === 0 ? ['IS_SANDBOX'] : []), 'PATH'
    ])
    assert.equal(both.env['ANTHROPIC_BASE_URL'], both.claude.api.baseUrl)
    assert.match(both.env['ANTHROPIC_BASE_URL'] ?? '', /^http:\/\/127\.0\.0\.1:\d+$/)
    const config = await readFile(join(both.home, '.codex', 'config.toml'), 'utf8')
    assert.match(config, new RegExp(`base_url = "${both.codex.api.baseUrl}"`))
    assert.match(config, /\[analytics\]\nenabled = false/)
    assert.match(config, /\[features\]\nplugins = false/)
  } finally {
    await both.cleanup()
  }
  await assert.rejects(access(both.home))
  await assert.rejects(fetch(both.claude.api.url))
  await assert.rejects(fetch(both.codex.api.url))
})

test('a missing or broken binary fails with a message that says how to install it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-bin-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const env = { PATH: process.env['PATH'] ?? '', HOME: dir }

  await assert.rejects(assertCliRuns('claude', join(dir, 'claude'), env), /The real claude CLI is not installed at .*Run `npm ci` with install scripts enabled/s)

  // What bin/claude.exe is when the postinstall did not run.
  const stub = join(dir, 'claude.exe')
  await writeFile(stub, '#!/bin/sh\necho "Error: claude native binary not installed." >&2\nexit 1\n')
  await chmod(stub, 0o755)
  await assert.rejects(assertCliRuns('claude', stub, env), /does not run on this machine[\s\S]*Error: claude native binary not installed\.[\s\S]*install\.cjs/)
})

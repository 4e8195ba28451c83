import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, fakeClis, tempDir, testConfig, waitFor } from '../helper.ts'
import { existsSync } from 'node:fs'
import { setCodexCatalog } from '../../src/models.ts'
import { askCodexModels, parseCodexCatalog, readCachedCodexModels, writeCachedCodexModels } from '../../src/ops/codex-models.ts'
import { createCommandRunner } from '../../src/ops/runner.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURE = join(ROOT, 'test', 'fixtures', 'cli', 'codex-debug-models.json')

test('the recorded catalog of codex 0.169: the listed models in priority order, hidden ones left out, with their reasoning levels', async () => {
  const models = parseCodexCatalog(await readFile(FIXTURE, 'utf8'))
  assert.deepEqual(models?.map((m) => m.slug), ['gpt-6.1-sol', 'gpt-6-astra', 'gpt-6-sol', 'gpt-6-luna', 'gpt-5.6-sol', 'gpt-6.1-terra', 'gpt-5.6-terra', 'gpt-5.6-luna', 'gpt-5.5'])
  assert.deepEqual(models?.find((m) => m.slug === 'gpt-5.5')?.efforts, ['low', 'medium', 'high', 'xhigh'])
  for (const bad of ['', 'not json', '{"models": []}', '{"models": "x"}', '[1,2]']) assert.equal(parseCodexCatalog(bad), null, bad)
})

test('the real pinned codex lists its models offline (`codex debug models`), and ductor reads them', { timeout: 120_000 }, async (t) => {
  const home = await tempDir(t)
  const runner = createCommandRunner({ env: { ...process.env, HOME: home, CODEX_HOME: home, OPENAI_API_KEY: '', CODEX_API_KEY: '' } })
  const asked = await askCodexModels(runner, join(ROOT, 'node_modules', '.bin', 'codex'))
  assert.ok(asked.models !== null, 'reason' in asked ? asked.reason : '')
  assert.ok(asked.models.length > 0 && asked.models.every((m) => /^[a-z0-9.-]+$/.test(m.slug)))
  // The recorded fixture is what this binary prints.
  assert.deepEqual(asked.models.map((m) => m.slug), parseCodexCatalog(await readFile(FIXTURE, 'utf8'))?.map((m) => m.slug))
})

test('an older codex without `debug models`, or none at all, gives a reason instead of models', async () => {
  const runner = createCommandRunner()
  const none = await askCodexModels(runner, '/nonexistent/codex')
  assert.equal(none.models, null)
  const old = await askCodexModels(async () => ({ exitCode: 2, stdout: '', stderr: "error: unrecognized subcommand 'debug'\n", notFound: false, timedOut: false }), 'codex')
  assert.deepEqual(old, { models: null, reason: "`codex debug models` failed (error: unrecognized subcommand 'debug')" })
})

test('the cache holds a day, for the same binary', async (t) => {
  const dir = await tempDir(t)
  const models = [{ slug: 'gpt-5.5', name: 'GPT-5.5', efforts: ['low'] }]
  const now = Date.UTC(2026, 11, 3, 12)
  await writeCachedCodexModels(dir, '/usr/bin/codex', models, now)
  assert.deepEqual(await readCachedCodexModels(dir, '/usr/bin/codex', now + 23 * 3_600_000), models)
  assert.equal(await readCachedCodexModels(dir, '/usr/bin/codex', now + 25 * 3_600_000), null, 'a day old: asked again')
  assert.equal(await readCachedCodexModels(dir, '/opt/other/codex', now), null, 'another codex: asked again')
})

test('closing the service while `codex debug models` still runs ends it and writes nothing into the home afterwards', { timeout: 60_000 }, async (t) => {
  t.after(() => { setCodexCatalog(null) })
  const bin = await fakeClis(t)
  const started = join(await tempDir(t), 'codex-pid')
  const { app, paths, stop } = await build(t, {
    config: testConfig({ cli_paths: { codex: bin.codex } }),
    env: { FAKE_CODEX_MODELS: FIXTURE, FAKE_CODEX_MODELS_STARTED: started, FAKE_CODEX_MODELS_DELAY_MS: '30000' }
  })
  await app.ready()
  const pid = Number(await waitFor(async () => await readFile(started, 'utf8').catch(() => undefined), 20_000, 'the discovery to start'))
  await stop()
  const alive = (() => { try { process.kill(pid, 0); return true } catch { return false } })()
  assert.equal(alive, false, 'the discovery was ended by the close, not left running')
  assert.equal(existsSync(join(paths.state, 'codex-models.json')), false, 'and wrote nothing')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { renderConfigDocs } from '../src/config-docs.ts'

test('docs/configuration.md documents every key exactly as the schema defines it', async () => {
  const file = await readFile(new URL('../docs/configuration.md', import.meta.url), 'utf8')
  assert.equal(file, renderConfigDocs(), 'run `npm run docs:config` after changing the schema')
  for (const key of ['`cli_timeout`', '`streaming.edit_interval_seconds`', '`telegram.api_root`', '`limits.max_concurrent_runs`', '`cli_paths.codex`']) {
    assert.ok(file.includes(key), `${key} is documented`)
  }
})

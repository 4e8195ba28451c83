import { test } from 'node:test'
import assert from 'node:assert/strict'
import { providerFallback } from '../../src/core/fallback.ts'
import { equivalentModel, setCodexCatalog } from '../../src/models.ts'
import { completeConfig } from '../../src/config.ts'

const on = { provider_fallback: true }

test('the fallback is on by default, as in the Python version', () => {
  assert.equal(completeConfig({}).provider_fallback, true)
})

test('the fallback happens only when the target is surely not logged in and the other provider surely is', () => {
  const opus = { provider: 'claude' as const, model: 'opus' }
  assert.equal(providerFallback(on, opus, { claude: true, codex: true }), null)
  assert.equal(providerFallback(on, opus, { claude: false, codex: false }), null, 'neither: the run fails with the login hint')
  assert.equal(providerFallback(on, opus, { claude: null, codex: true }), null, 'unknown (macOS Keychain): no guess')
  assert.equal(providerFallback(on, opus, null), null)
  assert.equal(providerFallback({ provider_fallback: false }, opus, { claude: false, codex: true }), null)
  assert.deepEqual(providerFallback(on, { provider: 'codex', model: 'gpt-5.5-mini' }, { claude: true, codex: false })?.to, { provider: 'claude', model: 'sonnet' })
})

test('equivalent models: the Python table when the other side offers the model, else by size', () => {
  setCodexCatalog(null)
  assert.equal(equivalentModel('opus', 'codex'), 'gpt-5.5')
  assert.equal(equivalentModel('haiku', 'codex'), 'gpt-5.5-mini')
  setCodexCatalog(['gpt-5.3-codex', 'gpt-5.2-codex', 'gpt-5.1-codex-mini'])
  assert.equal(equivalentModel('opus', 'codex'), 'gpt-5.2-codex', 'as the Python version maps it')
  assert.equal(equivalentModel('sonnet', 'codex'), 'gpt-5.1-codex-mini')
  assert.equal(equivalentModel('claude-opus-4-1', 'codex'), 'gpt-5.3-codex', 'no table entry: the strongest')
  setCodexCatalog(null)
  assert.equal(equivalentModel('gpt-5.2-codex', 'claude'), 'opus')
  assert.equal(equivalentModel('gpt-5.1-codex-mini', 'claude'), 'sonnet')
  assert.equal(equivalentModel('o3', 'claude'), 'opus')
})

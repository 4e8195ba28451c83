import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveTaskOverrides, type GlobalRunDefaults } from '../../src/automation/overrides.ts'
import { providerOfModel } from '../../src/models.ts'

const claudeDefaults: GlobalRunDefaults = {
  provider: 'claude',
  model: 'opus',
  reasoning_effort: 'medium',
  cli_parameters: { claude: ['--chrome'], codex: ['--search'] },
  permission_mode: 'bypassPermissions'
}
const codexDefaults: GlobalRunDefaults = { ...claudeDefaults, provider: 'codex', model: 'gpt-5.4', reasoning_effort: 'high' }

test('a task without overrides runs with the global provider, model and parameters', () => {
  assert.deepEqual(resolveTaskOverrides({}, claudeDefaults), {
    ok: true,
    value: { provider: 'claude', model: 'opus', reasoningEffort: null, cliParameters: ['--chrome'], permissionMode: 'bypassPermissions' }
  })
  assert.deepEqual(resolveTaskOverrides({ provider: null, model: '', cli_parameters: null }, codexDefaults), {
    ok: true,
    value: { provider: 'codex', model: 'gpt-5.4', reasoningEffort: 'high', cliParameters: ['--search'], permissionMode: 'bypassPermissions' }
  })
})

test('task overrides win; task cli_parameters come after the global ones', () => {
  const result = resolveTaskOverrides({ provider: 'codex', model: 'o4-mini', reasoning_effort: 'xhigh', cli_parameters: ['-c', 'x=1'] }, claudeDefaults)
  assert.deepEqual(result, { ok: true, value: { provider: 'codex', model: 'o4-mini', reasoningEffort: 'xhigh', cliParameters: ['--search', '-c', 'x=1'], permissionMode: 'bypassPermissions' } })
  assert.deepEqual(resolveTaskOverrides({ model: 'Sonnet' }, claudeDefaults), {
    ok: true, value: { provider: 'claude', model: 'sonnet', reasoningEffort: null, cliParameters: ['--chrome'], permissionMode: 'bypassPermissions' }
  })
  assert.deepEqual(resolveTaskOverrides({ model: 'claude-opus-4-1-20250805' }, claudeDefaults), {
    ok: true, value: { provider: 'claude', model: 'claude-opus-4-1-20250805', reasoningEffort: null, cliParameters: ['--chrome'], permissionMode: 'bypassPermissions' }
  })
})

test('a model alone selects its provider', () => {
  const toCodex = resolveTaskOverrides({ model: 'gpt-5' }, claudeDefaults)
  assert.ok(toCodex.ok)
  assert.equal(toCodex.value.provider, 'codex')
  assert.equal(toCodex.value.reasoningEffort, 'medium', 'global effort applies to codex')
  const toClaude = resolveTaskOverrides({ model: 'haiku', reasoning_effort: 'high' }, codexDefaults)
  assert.ok(toClaude.ok)
  assert.deepEqual(toClaude.value, { provider: 'claude', model: 'haiku', reasoningEffort: null, cliParameters: ['--chrome'], permissionMode: 'bypassPermissions' })
})

test('switching provider without a model uses that provider’s default, not the other one’s model', () => {
  const codex = resolveTaskOverrides({ provider: 'codex' }, claudeDefaults)
  assert.deepEqual(codex, { ok: true, value: { provider: 'codex', model: null, reasoningEffort: 'medium', cliParameters: ['--search'], permissionMode: 'bypassPermissions' } })
  const claude = resolveTaskOverrides({ provider: 'claude' }, codexDefaults)
  assert.deepEqual(claude, { ok: true, value: { provider: 'claude', model: 'opus', reasoningEffort: null, cliParameters: ['--chrome'], permissionMode: 'bypassPermissions' } })
})

test('the configured default model is accepted for the default provider even if it is not a known name', () => {
  const odd = { ...codexDefaults, model: 'my-local-model' }
  assert.equal(resolveTaskOverrides({}, odd).ok, true)
  assert.equal(resolveTaskOverrides({ model: 'my-local-model' }, odd).ok, true)
})

test('unknown models, providers and efforts are an error for the task, with a clear message', () => {
  const cases: Array<[Parameters<typeof resolveTaskOverrides>[0], RegExp]> = [
    [{ model: 'gemini-2.5-pro' }, /unknown claude model "gemini-2.5-pro"; use opus, sonnet, haiku/],
    [{ provider: 'claude', model: 'gpt-5' }, /unknown claude model "gpt-5"/],
    [{ provider: 'codex', model: 'opus' }, /unknown codex model "opus"; use a gpt-…, o… or codex-… model id/],
    [{ provider: 'gemini' }, /provider "gemini" is not supported; use claude or codex/],
    [{ provider: 'codex', reasoning_effort: 'extreme' }, /reasoning_effort "extreme" is not one of low, medium, high, xhigh/]
  ]
  for (const [task, message] of cases) {
    const result = resolveTaskOverrides(task, claudeDefaults)
    assert.equal(result.ok, false)
    assert.match(result.ok ? '' : result.error, message)
  }
})

test('providerOfModel recognises both families', () => {
  assert.equal(providerOfModel('opus'), 'claude')
  assert.equal(providerOfModel('claude-sonnet-4-5'), 'claude')
  assert.equal(providerOfModel('gpt-5.1-codex'), 'codex')
  assert.equal(providerOfModel('o3'), 'codex')
  assert.equal(providerOfModel('codex-mini-latest'), 'codex')
  assert.equal(providerOfModel('llama3'), null)
  assert.equal(providerOfModel('open'), null)
})

test('permission_mode: the task\'s own, else the global one; an unknown one is the task\'s error', () => {
  const own = resolveTaskOverrides({ permission_mode: 'ask' }, claudeDefaults)
  assert.equal(own.ok && own.value.permissionMode, 'ask')
  const inherited = resolveTaskOverrides({ permission_mode: null }, { ...claudeDefaults, permission_mode: 'ask' })
  assert.equal(inherited.ok && inherited.value.permissionMode, 'ask')
  const bad = resolveTaskOverrides({ permission_mode: 'yolo' }, claudeDefaults)
  assert.equal(bad.ok, false)
  assert.match(bad.ok ? '' : bad.error, /permission_mode "yolo" is not one of ask, default, acceptEdits, plan, bypassPermissions, dontAsk/)
})

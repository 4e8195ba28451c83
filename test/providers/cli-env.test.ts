import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildCliEnv } from '../../src/providers/cli-env.ts'

const base = { PATH: '/usr/bin:/bin', HOME: '/home/u', CLAUDECODE: '1', UNSET: undefined }

test('inherits the base env and adds the ductor variables, the bin dir first on PATH', () => {
  const env = buildCliEnv({
    baseEnv: base,
    provider: 'codex',
    permissionMode: 'bypassPermissions',
    ductorHome: '/home/u/.ductor',
    chatId: '42',
    apiUrl: 'http://127.0.0.1:8742',
    apiToken: 'tok',
    extraBinDir: '/home/u/.ductor/bin',
    isRoot: true
  })
  assert.deepEqual(env, {
    PATH: '/home/u/.ductor/bin:/usr/bin:/bin',
    HOME: '/home/u',
    DUCTOR_HOME: '/home/u/.ductor',
    DUCTOR_CHAT_ID: '42',
    DUCTOR_API_URL: 'http://127.0.0.1:8742',
    DUCTOR_API_TOKEN: 'tok'
  })
})

test('claude as root with bypassPermissions gets IS_SANDBOX=1, and only then', () => {
  const opts = { baseEnv: base, ductorHome: '/h', chatId: '1' }
  assert.equal(buildCliEnv({ ...opts, provider: 'claude', permissionMode: 'bypassPermissions', isRoot: true }).IS_SANDBOX, '1')
  assert.equal(buildCliEnv({ ...opts, provider: 'claude', permissionMode: 'bypassPermissions', isRoot: false }).IS_SANDBOX, undefined)
  assert.equal(buildCliEnv({ ...opts, provider: 'claude', permissionMode: 'default', isRoot: true }).IS_SANDBOX, undefined)
  assert.equal(buildCliEnv({ ...opts, provider: 'codex', permissionMode: 'bypassPermissions', isRoot: true }).IS_SANDBOX, undefined)
})

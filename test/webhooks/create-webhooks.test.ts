import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createWebhooks } from '../../src/webhooks/create-webhooks.ts'
import type { RunHistory } from '../../src/store/run-history.ts'
import { memoryLogger, testConfig } from '../helper.ts'
import { tempDir } from './helpers.ts'

test('every hook token and signing secret is handed to the log scrubber: from the file, on create, update and rotate', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'webhooks.json')
  await writeFile(path, JSON.stringify({ hooks: [{ id: 'old', title: 'Old', mode: 'wake', prompt_template: 'x', token: 'token-from-the-file-0123' }] }))
  const secrets = new Set<string>()
  const handlers: string[] = []
  const webhooks = await createWebhooks({
    path,
    config: () => testConfig(),
    orchestrator: { handleMessage: async () => ({ kind: 'discarded' }), defaultSink: () => null },
    runTask: async () => ({ status: 'success', runId: null, reply: '', error: null }),
    runs: {} as RunHistory,
    inbox: { handle: (kind) => { handlers.push(kind) } },
    clock: { now: () => Date.now() },
    logger: memoryLogger().logger,
    onSecret: (secret) => { secrets.add(secret) }
  })
  assert.deepEqual(handlers, ['webhook'], 'the dispatcher handles the inbox\'s webhook entries')
  assert.ok(secrets.has('token-from-the-file-0123'))
  const created = await webhooks.store.create({ id: 'new', title: 'New', mode: 'wake', prompt_template: 'x' })
  assert.ok(secrets.has(created.token))
  const rotated = await webhooks.store.rotateToken('new')
  assert.ok(secrets.has(rotated.token))
  await webhooks.store.update('new', { auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: 'github-signing-secret-42' })
  assert.ok(secrets.has('github-signing-secret-42'))
})

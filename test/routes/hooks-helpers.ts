import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, fakeClis, tempDir, testConfig, waitFor, ADMIN_TOKEN } from '../helper.ts'
import type { HookCreateInput } from '../../src/webhooks/hook-store.ts'

export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
export const json = { 'content-type': 'application/json' }
export const hmacHex = (secret: string | Buffer, data: string) => createHmac('sha256', secret).update(data).digest('hex')

/** The whole app with webhooks on and fake CLIs; helpers to add hooks and post deliveries. */
export async function setup (t: TestContext, opts: { config?: Record<string, unknown>, env?: NodeJS.ProcessEnv } = {}) {
  const bin = await fakeClis(t)
  const dir = await tempDir(t)
  const record = join(dir, 'record.json')
  const config = testConfig({ webhooks: { enabled: true, token: 'global-webhook-token-0123456789' }, ...opts.config })
  const built = await build(t, { config, env: { ...bin.env, FAKE_CLI_RECORD: record, ...opts.env } })
  const addHook = async (input: Partial<HookCreateInput> & { id: string }) =>
    await built.app.webhooks.store.create({ title: input.id, mode: 'wake', prompt_template: 'Event: {{msg}}', ...input })
  const post = async (id: string, body: string | Buffer, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    await built.app.inject({ method: 'POST', url: `/hooks/${id}`, headers: { ...json, ...headers }, payload: body, remoteAddress })
  const lastCli = async (): Promise<{ argv: string[], cwd: string, env: Record<string, string> }> => JSON.parse(await readFile(record, 'utf8'))
  /** Waits for every accepted delivery to be dispatched (the home is removed before the app closes). */
  const idle = async () => await waitFor(() => built.app.inbox.inFlight() === 0 ? true : undefined, 20_000, 'dispatches to end')
  return { ...built, addHook, post, lastCli, idle }
}

export function assertError (res: { statusCode: number, json: () => unknown }, status: number, code: string): void {
  assert.equal(res.statusCode, status)
  const body = res.json() as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message'])
  assert.equal(body.error, code)
  assert.match(String(body.message), /\S/)
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tempDir } from '../helper.ts'
import { describeUpdate, probeUpdate } from '../../src/ops/update-source.ts'

const noGit = async (): Promise<never> => { throw new Error('a package copy never runs git') }
const answer = (status: number, body: unknown): typeof fetch => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch

test('an installed package (no .git) asks the registry: a newer latest is an update, a 404 or no network is quiet "unknown"', async (t) => {
  const root = await tempDir(t)
  const base = { root, current: '0.1.0', runner: noGit, registry: 'http://registry.example.test' }
  const newer = await probeUpdate({ ...base, fetchImpl: answer(200, { version: '0.2.0' }) })
  assert.equal(newer.status, 'newer')
  assert.equal(newer.status === 'newer' ? describeUpdate(newer.update) : '', '0.2.0')
  assert.deepEqual(await probeUpdate({ ...base, fetchImpl: answer(200, { version: '0.1.0' }) }), { status: 'current', current: '0.1.0' })
  const missing = await probeUpdate({ ...base, fetchImpl: answer(404, { error: 'Not found' }) })
  assert.deepEqual(missing, { status: 'unknown', reason: 'ductor is not published on http://registry.example.test' })
  const offline = await probeUpdate({ ...base, fetchImpl: (async () => { throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } }) }) as unknown as typeof fetch })
  assert.equal(offline.status, 'unknown')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../helper.ts'

test('GET /health answers {status:"ok"} and nothing else', async (t) => {
  const { app } = await build(t, { parts: ['health'] })
  const res = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ok' })
})

test('an unknown route gets the JSON error shape with 404', async (t) => {
  const { app } = await build(t, { parts: ['health'] })
  const res = await app.inject({ method: 'GET', url: '/nothing/here?x=1' })
  assert.equal(res.statusCode, 404)
  assert.deepEqual(res.json(), { error: 'not_found', message: 'no route GET /nothing/here' })
})

// Hostile input against the admin API (issue 9): ≥ 10,000 seeded cases of odd methods, hostile ids
// (traversal, NUL, non-UTF-8, prototype names) in every route, random bytes, deep nesting, prototype
// keys, huge and duplicated headers. Nothing answers 5xx, nothing is polluted, nothing outside the home
// is read or written; then raw bytes on a real socket, and the service still answers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import fc from 'fast-check'
import { ADMIN_TOKEN } from '../helper.ts'
import { CASES, runCases, assertAnswer, assertConfined, assertNoPollution, hostileBody, hostileHeaders, hostileRig, hostileSegment, seedFor } from './hostile-helpers.ts'

const routes: Array<[string, (id: string, q: string) => string]> = [
  ['POST', (id) => `/api/chats/${id}/messages`],
  ['POST', (id) => `/api/chats/${id}/stop`],
  ['GET', (id) => `/api/sessions/${id}`],
  ['DELETE', (id, q) => `/api/sessions/${id}?provider=${q}`],
  ['GET', () => '/api/sessions'],
  ['GET', () => '/api/memory'],
  ['PUT', () => '/api/memory'],
  ['GET', () => '/api/cron'],
  ['POST', () => '/api/cron'],
  ['GET', (id) => `/api/cron/${id}`],
  ['PATCH', (id) => `/api/cron/${id}`],
  ['DELETE', (id, q) => `/api/cron/${id}?delete_folder=${q}`],
  ['POST', (id) => `/api/cron/${id}/run`],
  ['GET', (id, q) => `/api/cron/${id}/runs?limit=${q}`],
  ['GET', (id, q) => `/api/runs?kind=${q}&status=${id}&ref=${id}&chat_id=${id}&limit=${q}`],
  ['GET', () => '/api/runs/active'],
  ['DELETE', (id) => `/api/runs/${id}`],
  ['GET', () => '/api/config'],
  ['PATCH', () => '/api/config'],
  ['GET', () => '/api/status'],
  ['GET', () => '/api/openapi.json'],
  ['GET', () => '/health'],
  ['GET', (id) => `/api/${id}/${id}`],
  ['GET', (id) => `/${id}`]
]
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const

test(`admin API: ${CASES} hostile requests, no 5xx, no pollution, nothing outside the home`, { timeout: 120_000 }, async (t) => {
  const rig = await hostileRig(t)
  const seed = seedFor(t)
  let tried = 0
  const statuses = new Map<number, number>()
  const cases = fc.tuple(
    fc.nat({ max: routes.length - 1 }), fc.option(fc.constantFrom(...methods), { freq: 5 }), hostileSegment, hostileSegment,
    hostileBody, hostileHeaders, fc.constantFrom('good', 'good', 'good', 'good', 'none', 'wrong', 'double', 'basic'))
  await runCases(cases, { seed, total: CASES }, async ([routeIndex, method, id, q, body, headers, authKind]) => {
    const [routeMethod, url] = routes[routeIndex] as [string, (id: string, q: string) => string]
    const authorization = {
      good: `Bearer ${ADMIN_TOKEN}`, none: undefined, wrong: `Bearer ${ADMIN_TOKEN}x`, double: [`Bearer ${ADMIN_TOKEN}`, 'Bearer other'], basic: 'Basic YWRtaW46YWRtaW4='
    }[authKind]
    const request = {
      method: method ?? routeMethod,
      url: url(id, q),
      headers: { ...headers, ...(authorization === undefined ? {} : { authorization }), ...(body.type === undefined ? {} : { 'content-type': body.type }) },
      ...(body.payload === undefined ? {} : { payload: body.payload })
    }
    const res = await rig.app.inject(request as never)
    tried++
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    const context = `${request.method} ${request.url.slice(0, 200)} (seed ${seed})`
    if (request.method !== 'HEAD' && !(res.headers['content-type'] ?? '').toString().startsWith('text/event-stream')) assertAnswer(res, context)
    else assert.ok(res.statusCode < 500, `${context}: ${res.statusCode}`)
    assertNoPollution(context)
  })
  t.diagnostic(`${tried} requests; answers by status: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`)
  assert.equal(tried, CASES)
  assert.deepEqual(rig.logs.filter((l) => l.includes('"request failed"')).map((l) => l.slice(0, 300)), [], 'no request failed inside')
  await assertConfined(rig)
  const health = await rig.app.inject({ method: 'GET', url: '/health' })
  assert.equal(health.statusCode, 200)
})

test('raw bytes on a real socket: malformed requests, huge and duplicated headers, then the service still answers', { timeout: 60_000 }, async (t) => {
  const rig = await hostileRig(t)
  const seed = seedFor(t)
  const address = await rig.app.listenAdmin({ host: '127.0.0.1', port: 0 })
  const { port } = new URL(address)
  const send = async (bytes: Buffer): Promise<string> => await new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    let got = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { got += d })
    socket.on('error', () => resolve(got))
    socket.on('close', () => resolve(got))
    socket.setTimeout(2000, () => socket.destroy())
    socket.end(bytes)
  })
  const auth = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`
  const crafted = fc.oneof(
    fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 1, max: 300_000 }).map((n) => Buffer.from(`GET /api/status HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'a'.repeat(n)}\r\n\r\n`)),
    fc.integer({ min: 2, max: 3000 }).map((n) => Buffer.from(`GET /api/status HTTP/1.1\r\nHost: x\r\n${auth}${'X-Dup: 1\r\n'.repeat(n)}\r\n`)),
    fc.constant(Buffer.from(`POST /api/memory HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n{"a":1}`)),
    fc.constant(Buffer.from(`PUT /api/memory HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n`)),
    fc.constant(Buffer.from(`GET /api/../../outside/secret.txt HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)),
    fc.constant(Buffer.from(`GET /api/sessions/%00 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)),
    fc.constant(Buffer.from(`GET /api/sessions/a\u0000b HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, 'latin1')),
    fc.constant(Buffer.from(`GET /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`)),
    fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.concat([Buffer.from(`PATCH /api/config HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`), Buffer.from(b)]))
  )
  let tried = 0
  await fc.assert(fc.asyncProperty(crafted, async (bytes) => {
    const answer = await send(bytes)
    tried++
    const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]
    assert.ok(status === undefined || Number(status) < 500, `seed ${seed}: answered ${answer.slice(0, 200)}`)
    assert.ok(!answer.includes('OUTSIDE-THE-HOME'), `seed ${seed}: the bait leaked`)
  }), { seed, numRuns: Number(process.env['HOSTILE_SOCKET_CASES'] ?? 300), endOnFailure: true })
  t.diagnostic(`${tried} raw requests`)
  const health = await fetch(`${address}/health`)
  assert.equal(health.status, 200)
  await assertConfined(rig)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { adminListenAddress, loadConfig, ConfigError } from '../../src/config.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'
import { ADMIN_TOKEN, build, rawHttp as raw, tempDir, testConfig } from '../helper.ts'

/**
 * ADR 14: the admin API has a listener of its own. On the public listener (the one a reverse proxy
 * points at) no spelling of an /api path reaches it, with or without the token; on the admin listener
 * only /api and /health answer. The `ductor` command finds the admin listener in state/service.json.
 */

test('the admin API answers on its own listener only; the public listener has no /api, however it is spelt', { timeout: 60_000 }, async (t) => {
  const service = await build(t, { serve: true, config: testConfig({ server: { host: '127.0.0.1', port: 0 }, webhooks: { enabled: true } }), exactEnv: { PATH: '/usr/bin:/bin' } })
  const home = service.home
  const admin = service.adminUrl ?? ''
  assert.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.notEqual(admin, service.url)
  const info = await readServiceInfo(homePaths(home).state)
  assert.deepEqual([info?.url, info?.admin_url], [service.url, admin], 'state/service.json names both listeners')

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  assert.equal((await fetch(`${admin}/api/status`, { headers: auth })).status, 200)
  assert.equal((await fetch(`${admin}/health`)).status, 200)
  assert.equal((await fetch(`${service.url}/health`)).status, 200)

  for (const path of ['/api/status', '/api/openapi.json', '/api/config', '/api/chats/1/messages', '/api']) {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${service.url}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(method === 'POST' && { body: '{"text":"hi"}' }) })
      assert.equal(res.status, 404, `${method} ${path} on the public listener`)
      assert.equal((await res.json() as { error: string }).error, 'not_found')
    }
  }
  // Spellings a proxy or a client might use to reach the same route some other way.
  for (const path of ['/%61pi/status', '//api/status', '/API/status', '/api/../api/status', '/./api/status', '/api/status/', '/api/status?x=1', '/api%2Fstatus', '/hooks/../api/status']) {
    const answer = await raw(service.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`)
    const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]
    assert.ok(status !== undefined && status !== '200' && !answer.includes('"version"'), `${path} on the public listener answered ${answer.slice(0, 120)}`)
  }
  // The admin listener serves nothing else: no webhook deliveries, no Telegram updates.
  assert.equal((await fetch(`${admin}/hooks/anything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404)
  assert.equal((await fetch(`${admin}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404)
  assert.equal((await fetch(`${service.url}/hooks/anything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404, 'unknown hook (the route exists)')
})

test('admin.port cannot be the server\'s port; null means the server\'s port + 1; admin.enabled false opens no listener', async (t) => {
  const home = await tempDir(t)
  await writeJsonAtomic(homePaths(home).config, testConfig({ server: { port: 9100 }, admin: { token: ADMIN_TOKEN, port: 9100 } }))
  await assert.rejects(loadConfig({ home, env: {} }), (err: unknown) => err instanceof ConfigError && err.key === 'admin.port' && /is the server's port/.test(err.message))
  const other = await tempDir(t)
  await writeJsonAtomic(homePaths(other).config, testConfig({ server: { port: 9100 } }))
  await assert.rejects(loadConfig({ home: other, env: { DUCTOR_ADMIN_PORT: 'x' } }), /DUCTOR_ADMIN_PORT: "x" is not a port/)
  assert.deepEqual(adminListenAddress((await loadConfig({ home: other, env: {} })).config), { host: '127.0.0.1', port: 9101 })
  assert.deepEqual(adminListenAddress((await loadConfig({ home: other, env: { DUCTOR_ADMIN_PORT: '9200', DUCTOR_ADMIN_HOST: '::1' } })).config), { host: '::1', port: 9200 })

  const service = await build(t, { serve: true, config: testConfig({ server: { host: '127.0.0.1', port: 0 }, admin: { token: ADMIN_TOKEN, enabled: false } }), exactEnv: { PATH: '/usr/bin:/bin' } })
  assert.equal(service.adminUrl, null)
  assert.equal((await readServiceInfo(service.paths.state))?.admin_url, null)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, fakeClis, tempDir, testConfig, waitFor, ADMIN_TOKEN, spawnService } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { homePaths } from '../../src/home/paths.ts'

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

test('DELETE /api/runs/:id on a record left running with no process: aborted false, the record closed as error:interrupted', async (t) => {
  const { app } = await build(t)
  // A record that says "running" while nothing of the service works on it (its owner is gone).
  const orphan = await app.stores.runs.start({ kind: 'chat', chat_id: '9', provider: 'claude', model: 'opus' })
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/runs/active', headers: auth })).json().runs.map((r: { id: string }) => r.id), [orphan.id])

  const del = await app.inject({ method: 'DELETE', url: `/api/runs/${orphan.id}`, headers: auth })
  assert.equal(del.statusCode, 200, del.body)
  assert.equal(del.json().aborted, false, 'nothing was stopped')
  assert.equal(del.json().run.status, 'error:interrupted')
  assert.match(del.json().run.error, /no process/)
  assert.equal(typeof del.json().run.ended_at, 'string')

  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/runs/active', headers: auth })).json().runs, [])
  const again = await app.inject({ method: 'DELETE', url: `/api/runs/${orphan.id}`, headers: auth })
  assert.equal(again.statusCode, 409)
  const listed = (await app.inject({ method: 'GET', url: '/api/runs?status=error', headers: auth })).json().runs
  assert.equal(listed.find((r: { id: string }) => r.id === orphan.id)?.status, 'error:interrupted')
  const onDisk = (await readFile(join(app.settings.paths.state, 'runs.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string, status: string })
  assert.equal(onDisk.filter((r) => r.id === orphan.id).at(-1)?.status, 'error:interrupted', 'the verdict is written down')
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/runs/nope', headers: auth })).statusCode, 404)
})

test('a run the service was killed under is error:interrupted after the restart; DELETE answers 409', async (t) => {
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const records = await tempDir(t)
  await writeJsonAtomic(homePaths(home).config, testConfig({ server: { port: 0 } }))
  const env = { ...bin.env, DUCTOR_HOME: home, FAKE_CLI_RECORD_DIR: records }
  const call = async (base: string, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> => {
    const res = await fetch(base + path, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: await res.json() }
  }
  const orphans: number[] = []
  t.after(() => { for (const pid of orphans) { try { process.kill(pid, 'SIGKILL') } catch {} } })

  const first = await spawnService(t, env)
  const firstAt = await first.up()
  call(firstAt.admin_url ?? '', 'POST', '/api/chats/5/messages', { text: 'never ends [[hang]]' }).catch(() => {})
  const run = await waitFor(async () => (await call(firstAt.admin_url ?? '', 'GET', '/api/runs/active')).body.runs[0] as { id: string } | undefined, 30_000, 'the run')
  const file = await waitFor(async () => (await readdir(records))[0], 30_000, 'the CLI')
  orphans.push(await waitFor(async () => {
    try { return JSON.parse(await readFile(join(records, file), 'utf8')).pid as number } catch { return undefined }
  }, 10_000, 'its pid'))
  first.child.kill('SIGKILL')
  await first.exited

  const second = await spawnService(t, env)
  const secondAt = await second.up()
  assert.deepEqual((await call(secondAt.admin_url ?? '', 'GET', '/api/runs/active')).body.runs, [])
  const listed = (await call(secondAt.admin_url ?? '', 'GET', '/api/runs')).body.runs as Array<{ id: string, status: string }>
  assert.equal(listed.find((r) => r.id === run.id)?.status, 'error:interrupted')
  const del = await call(secondAt.admin_url ?? '', 'DELETE', `/api/runs/${run.id}`)
  assert.equal(del.status, 409)
  assert.match(del.body.message, /error:interrupted/)
  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0)
})

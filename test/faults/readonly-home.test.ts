// Disk faults (issue 9): the home turns read-only under a running service, then the service is started
// on a read-only home. Each write gets a clear error naming the path; no file is changed or left half.
// As root, permissions do not bind, so the service runs as `nobody` (uid 65534) on a home it owns.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, chown, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnService, tempDir, type Spawned } from '../helper.ts'

const asRoot = process.getuid?.() === 0
const NOBODY = 65534

const serve = async (t: TestContext, home: string): Promise<Spawned> => await spawnService(t, { PATH: process.env['PATH'], DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home }, { exactEnv: true, ...(asRoot ? { uid: NOBODY } : {}) })

/** Every file under `dir` with its content (state/ and logs/ excluded: they are the service's own). */
async function snapshot (dir: string, base = dir): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const rel = path.slice(base.length + 1)
    if (rel === 'state' || rel === 'logs') continue
    if (entry.isDirectory()) for (const [k, v] of await snapshot(path, base)) out.set(k, v)
    else if (entry.isFile()) out.set(rel, await readFile(path, 'utf8'))
  }
  return out
}

async function setMode (dir: string, writable: boolean): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await setMode(join(dir, entry.name), writable)
    else if (entry.isFile()) await chmod(join(dir, entry.name), writable ? 0o644 : 0o444)
  }
  await chmod(dir, writable ? 0o755 : 0o555)
}

async function chownAll (dir: string): Promise<void> {
  await chown(dir, NOBODY, NOBODY)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownAll(join(dir, entry.name))
    else await chown(join(dir, entry.name), NOBODY, NOBODY)
  }
}

test('a home that turns read-only: every write answers an error naming the path, no file changes; a read-only start says which path', { timeout: 60_000 }, async (t) => {
  const parent = await tempDir(t)
  await chmod(parent, 0o755)
  const home = join(parent, 'home')
  const { mkdir } = await import('node:fs/promises')
  await mkdir(home)
  if (asRoot) await chownAll(home)
  t.after(async () => { await setMode(home, true).catch(() => {}) })

  const served = await serve(t, home)
  const info = await served.up(30_000)
  const config = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8'))
  const authorization = `Bearer ${config.admin.token as string}`
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number, json: { error?: string, message?: string } }> => {
    const res = await fetch(`${info.admin_url ?? ''}${path}`, body === undefined
      ? { method, headers: { authorization } }
      : { method, headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, json: await res.json() as { error?: string, message?: string } }
  }
  assert.equal((await call('POST', '/api/cron', { id: 'daily', title: 'Daily', schedule: '0 9 * * *' })).status, 201)

  await setMode(home, false)
  const before = await snapshot(home)
  const attempts = [
    ['PUT', '/api/memory', { content: 'new memory' }, 'workspace/memory_system'],
    ['PATCH', '/api/config', { cli_timeout: 900 }, 'config'],
    ['POST', '/api/cron', { id: 'other', title: 'Other', schedule: '0 10 * * *' }, 'cron_jobs.json'],
    ['PATCH', '/api/cron/daily', { title: 'Renamed' }, 'cron_jobs.json'],
    ['DELETE', '/api/cron/daily', undefined, 'cron_jobs.json']
  ] as const
  for (const [method, path, body, where] of attempts) {
    const res = await call(method, path, body)
    assert.ok(res.status >= 500 && res.status < 600, `${method} ${path} answered ${res.status}`)
    assert.equal(res.json.error, 'storage_error', `${method} ${path}: ${JSON.stringify(res.json)}`)
    assert.ok(res.json.message?.includes(join(home, where)), `${method} ${path} names the path: ${res.json.message ?? ''}`)
    assert.doesNotMatch(res.json.message ?? '', /\n\s+at /)
  }
  assert.deepEqual(await snapshot(home), before, 'no file changed, none left half')
  const cron = await call('GET', '/api/cron/daily')
  assert.equal((cron.json as { job?: { title: string } }).job?.title, 'Daily', 'memory matches the disk')
  assert.equal((await fetch(`${info.url}/health`)).status, 200, 'the service is still up')

  assert.equal(await served.stop(), 0)

  // Starting on a read-only home: one line naming what could not be written.
  const again = await serve(t, home)
  assert.notEqual(await again.exited, 0)
  assert.match(again.stderr(), new RegExp(`^ductor: cannot write ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S*: E(ACCES|ROFS|PERM)`), again.stderr())
  assert.doesNotMatch(again.stderr(), /\n\s+at /)
  assert.deepEqual(await snapshot(home), before)
  assert.equal((await stat(join(home, 'config', 'config.json'))).size > 0, true)
})

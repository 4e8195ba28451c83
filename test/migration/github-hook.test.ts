import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createHmac } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { build, ductor, ROOT, waitFor, ADMIN_TOKEN } from '../helper.ts'

/**
 * Breakit report 1, F6 (ADR 0045). The Python ductor wrote a GitHub hook as a generic HMAC hook:
 * `gh-push` in the seed home has `X-Hub-Signature-256`, sha256, hex, prefix `sha256=` — exactly
 * GitHub's scheme — and no `hmac_preset`. docs/security.md promises that a captured GitHub delivery
 * sent again with the same, a new or no `X-GitHub-Delivery` answers duplicate. On the migrated home
 * it was accepted (and its task run) every time. Now such a hook gets GitHub's replay protection,
 * without refusing anything the Python version accepted, and the admin API and `ductor webhook show`
 * say what applies.
 */

const FIXTURE = join(ROOT, 'test', 'fixtures', 'seed-home', 'ductor-home')
const SECRET = 'ghsecret'
const sign = (body: string): string => createHmac('sha256', SECRET).update(body).digest('hex')

test('a GitHub hook from the Python home: a replayed GitHub delivery is a duplicate with the same, a new or no X-GitHub-Delivery; what Python accepted is still accepted', { timeout: 90_000 }, async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ductor-gh-'))
  t.after(async () => { await rm(home, { recursive: true, force: true }) })
  await cp(FIXTURE, home, { recursive: true })
  const config = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { telegram_token: string }
  const fake = createFakeBotApi({ token: config.telegram_token, rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(() => fake.close())
  const service = await build(t, {
    serve: true,
    home,
    env: { DUCTOR_TELEGRAM_API_ROOT: fake.apiRoot, DUCTOR_PORT: '0', DUCTOR_ADMIN_TOKEN: ADMIN_TOKEN }
  })
  const deliver = async (body: string, headers: Record<string, string>): Promise<{ status: number, json: Record<string, unknown> }> => {
    const res = await fetch(`${service.url}/hooks/gh-push`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    return { status: res.status, json: await res.json() as Record<string, unknown> }
  }

  // What applies, as the admin API and `ductor webhook show` say it.
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const view = await (await fetch(`${service.adminUrl ?? ''}/api/webhooks/gh-push`, { headers: auth })).json() as {
    hook: { hmac_preset: unknown }, auth: { scheme: string, instructions: string }, replay: Record<string, unknown>
  }
  assert.equal(view.hook.hmac_preset, null, 'the file is read as it is (no preset is written into the Python file)')
  assert.equal(view.auth.scheme, 'hmac')
  assert.match(view.auth.instructions, /^This is how GitHub signs/)
  assert.deepEqual({ ...view.replay, description: undefined }, {
    delivery_id: 'X-GitHub-Delivery, else webhook-id', body_window_seconds: 86400, body_kept_from: 'github', github_scheme: true, description: undefined
  })
  const bearer = await (await fetch(`${service.adminUrl ?? ''}/api/webhooks/ci-failure`, { headers: auth })).json() as { replay: Record<string, unknown> }
  assert.deepEqual([bearer.replay['github_scheme'], bearer.replay['body_window_seconds'], bearer.replay['body_kept_from']], [false, 0, 'none'])
  const shown = await ductor(['webhook', 'show', 'gh-push'], service.env)
  assert.equal(shown.code, 0, shown.stderr)
  assert.match(shown.stdout, /\nReplays: Signed like GitHub \(X-Hub-Signature-256, sha256=<hex>\): GitHub's replay protection applies\. A repeated delivery id \(X-GitHub-Delivery, else webhook-id\) is a duplicate\. The body of a delivery that carried X-GitHub-Delivery \(every delivery from GitHub does\) is kept for 86400 s/)

  // A delivery as GitHub sends it, then the same signed body captured and sent again.
  const push = JSON.stringify({ ref: 'refs/heads/main', pusher: 'alice', after: 'c0ffee' })
  const signed = { 'x-hub-signature-256': `sha256=${sign(push)}`, 'x-github-event': 'push' }
  const first = await deliver(push, { ...signed, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' })
  assert.deepEqual([first.status, first.json['accepted']], [202, true])
  for (const delivery of ['72d3162e-cc78-11e3-81ab-4c9367dc0958', 'ecf9deee-0000-4000-8000-000000000001', undefined]) {
    const again = await deliver(push, { ...signed, ...(delivery !== undefined && { 'x-github-delivery': delivery }) })
    assert.deepEqual([again.status, again.json['duplicate']], [200, true], `sent again with X-GitHub-Delivery ${String(delivery)}`)
  }
  // GitHub's next push (another body) runs.
  const next = JSON.stringify({ ref: 'refs/heads/main', pusher: 'bob', after: 'beef' })
  assert.equal((await deliver(next, { 'x-hub-signature-256': `sha256=${sign(next)}`, 'x-github-delivery': 'a-new-delivery' })).status, 202)

  // What the Python version accepted is accepted: a sender of its own without X-GitHub-Delivery may
  // send one body twice (each runs), and a signature without the sha256= prefix still verifies.
  const ping = JSON.stringify({ ref: 'nightly', pusher: 'cron' })
  assert.equal((await deliver(ping, { 'x-hub-signature-256': `sha256=${sign(ping)}` })).status, 202)
  assert.equal((await deliver(ping, { 'x-hub-signature-256': `sha256=${sign(ping)}` })).status, 202, 'no X-GitHub-Delivery: served as before')
  const bare = JSON.stringify({ ref: 'bare', pusher: 'script' })
  assert.equal((await deliver(bare, { 'x-hub-signature-256': sign(bare) })).status, 202, 'a bare hex signature, as the Python check took it')
  assert.equal((await deliver(bare, { 'x-hub-signature-256': `sha256=${sign(bare + 'x')}` })).status, 401)

  // Five deliveries ran the hook's task; the replays ran nothing.
  await waitFor(() => service.app.webhooks.store.get('gh-push')?.trigger_count === 5 ? true : undefined, 60_000, 'five dispatches')
  await waitFor(() => service.app.inbox.inFlight() === 0 ? true : undefined, 60_000, 'every accepted delivery to be done')
  assert.equal(service.app.webhooks.store.get('gh-push')?.trigger_count, 5)
  assert.equal(await service.stop(), 0)
})

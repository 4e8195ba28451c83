// Webhooks are switched on with one documented command that applies without a restart (issue 16,
// item 11), and docs/webhooks.md, which automation.md links, exists and says so.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT, ductor, build } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

test('`ductor webhook enable` turns deliveries on at once, `disable` off again; no restart, saved in config.json', async (t) => {
  const { home, env, stop } = await build(t, { serve: true, env: { DUCTOR_ALLOWED_USER_IDS: '42' } })
  const url = (await readServiceInfo(join(home, 'state')))?.url ?? ''
  const added = await ductor(['webhook', 'add', '--id', 'ci', '--template', 'CI: {{message}}', '--json'], env)
  assert.equal(added.code, 0, added.stderr)
  const token = (JSON.parse(added.stdout) as { token: string }).token
  const deliver = async (): Promise<number> => (await fetch(`${url}/hooks/ci`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'red' })
  })).status

  assert.equal(await deliver(), 403, 'off by default')
  const shown = await ductor(['webhook', 'show', 'ci'], env)
  assert.match(shown.stdout, /until you run: ductor webhook enable/)

  const on = await ductor(['webhook', 'enable'], env)
  assert.equal(on.code, 0, on.stderr)
  assert.ok(on.stdout.startsWith(`Webhooks are on: POST ${url}/hooks/<id> is accepted now`), on.stdout)
  assert.match(on.stdout, /^Webhooks are on: POST http:\/\/127\.0\.0\.1:\d+\/hooks\/<id> is accepted now \(no restart needed\); saved in config\.json\./)
  assert.equal(await deliver(), 202, 'accepted by the same process, without a restart')
  const file = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { webhooks: { enabled: boolean } }
  assert.equal(file.webhooks.enabled, true)

  const off = await ductor(['webhook', 'disable'], env)
  assert.match(off.stdout, /^Webhooks are off: every delivery is refused \(403\)/)
  assert.equal(await deliver(), 403)
  await stop()
})

test('docs/webhooks.md exists, automation.md links it, and it documents the enable command', async () => {
  const automation = await readFile(join(ROOT, 'docs', 'automation.md'), 'utf8')
  assert.match(automation, /\[the webhook docs\]\(webhooks\.md\)/)
  const doc = await readFile(join(ROOT, 'docs', 'webhooks.md'), 'utf8')
  assert.match(doc, /ductor webhook enable +# webhooks\.enabled = true, saved in config\.json and applied live/)
  assert.match(await readFile(join(ROOT, 'README.md'), 'utf8'), /\(docs\/webhooks\.md\)/)
})

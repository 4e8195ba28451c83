import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hookBody, parsePayload } from '../../src/cli/webhook-commands.ts'
import { ductor, build } from '../helper.ts'

test('ductor webhook add/show/test/rotate/edit/remove manage webhooks through the running service', async (t) => {
  const { home, env, stop } = await build(t, { serve: true, env: { DUCTOR_ALLOWED_USER_IDS: '42', FAKE_CLI_REPLY: 'Looked at the CI failure.' }, config: { webhooks: { enabled: true } } })
  const deliver = async (url: string, token: string): Promise<number> => (await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ branch: 'main', message: 'tests failed' })
  })).status

  const add = await ductor(['webhook', 'add', '--id', 'ci-failed', '--mode', 'wake', '--auth', 'bearer',
    '--title', 'CI failed', '--template', 'CI failed on {{branch}}: {{message}}'], env)
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /^Created webhook ci-failed: CI failed$/m)
  assert.match(add.stdout, /url\s+http:\/\/127\.0\.0\.1:\d+\/hooks\/ci-failed/)
  const token = /^\s+token\s+(\S+)$/m.exec(add.stdout)?.[1] ?? ''
  assert.ok(token.length >= 32, 'the generated token is shown once')
  assert.match(add.stdout, /The token is shown only now/)
  assert.match(add.stdout, new RegExp(`curl -X POST http://127\\.0\\.0\\.1:\\d+/hooks/ci-failed -H 'Authorization: Bearer ${token}'`))
  assert.ok(!add.stdout.includes('webhooks are switched off'))
  const url = /^\s+url\s+(\S+)$/m.exec(add.stdout)?.[1] ?? ''
  assert.equal(await deliver(url, token), 202, 'the printed URL and token work')
  assert.equal(JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')).hooks[0].token, token)

  const gh = await ductor(['webhook', 'add', '--id', 'gh-push', '--mode', 'wake', '--auth', 'hmac', '--preset', 'github', '--secret', 'gh-signing-secret-123',
    '--template', 'Push to {{repository.full_name}} by {{pusher.name}}: {{head_commit.message}}', '--json'], env)
  assert.equal(gh.code, 0, gh.stderr)
  const ghView = JSON.parse(gh.stdout)
  assert.equal(ghView.hook.auth_mode, 'hmac')
  assert.equal(ghView.hook.hmac_preset, 'github')
  assert.equal(ghView.hook.hmac_secret_set, true)
  assert.equal(ghView.token, undefined)
  assert.ok(!gh.stdout.includes('gh-signing-secret-123'), 'the secret is never printed')

  const show = await ductor(['webhook', 'show', 'ci-failed'], env)
  assert.equal(show.code, 0, show.stderr)
  assert.match(show.stdout, /auth\s+bearer \(header Authorization\)/)
  assert.match(show.stdout, /How to send: Send "Authorization: Bearer <token>"/)
  assert.ok(!show.stdout.includes(token), 'show never prints the token')

  const list = await ductor(['webhook', 'list'], env)
  assert.match(list.stdout, /^ID\s+MODE\s+AUTH\s+ON\s+TRIGGERS\s+LAST TRIGGERED \(UTC\)\s+TITLE$/m)
  assert.match(list.stdout, /^ci-failed\s+wake\s+bearer\s+yes\s+[01]\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d( \(error\))?|-)\s+CI failed$/m)
  assert.match(list.stdout, /^gh-push\s+wake\s+hmac:github\s+yes\s+0\s+-\s+gh-push$/m)

  const dry = await ductor(['webhook', 'test', 'gh-push'], env)
  assert.equal(dry.code, 0, dry.stderr)
  assert.match(dry.stdout, /^Test delivery test-\S+ accepted for webhook gh-push\. The agent gets:$/m)
  assert.match(dry.stdout, /Push to <repository\.full_name> by <pusher\.name>/)
  assert.match(dry.stdout, /UNTRUSTED EXTERNAL INPUT/)
  const tested = await ductor(['webhook', 'test', 'ci-failed', '--payload', '{"branch":"main","message":"lint failed"}', '--wait'], env)
  assert.equal(tested.code, 0, tested.stderr)
  assert.match(tested.stdout, /^Test delivery test-\S+ for webhook ci-failed finished: success$/m)
  const runs = JSON.parse((await ductor(['runs', '--kind', 'webhook', '--json'], env)).stdout)
  assert.ok(runs.some((r: { ref: string, chat_id: string, status: string }) => r.ref === 'ci-failed' && r.chat_id === '42' && r.status === 'success'))

  const rotate = await ductor(['webhook', 'rotate', 'ci-failed'], env)
  assert.equal(rotate.code, 0, rotate.stderr)
  const rotated = /^New token for webhook ci-failed: (\S+)$/m.exec(rotate.stdout)?.[1] ?? ''
  assert.ok(rotated.length >= 32 && rotated !== token)
  assert.equal(JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')).hooks[0].token, rotated)
  assert.equal(await deliver(url, token), 401, 'the old token stops working')
  assert.equal(await deliver(url, rotated), 202)
  const noToken = await ductor(['webhook', 'rotate', 'gh-push'], env)
  assert.equal(noToken.code, 1)
  assert.match(noToken.stderr, /^ductor: webhook "gh-push" uses auth_mode "hmac": only bearer hooks have a token to rotate/)

  const off = await ductor(['webhook', 'edit', 'ci-failed', '--enabled', 'false'], env)
  assert.equal(off.code, 0, off.stderr)
  assert.match(off.stdout, /enabled\s+no/)
  const windowed = await ductor(['webhook', 'edit', 'ci-failed', '--dedupe-window', '600', '--json'], env)
  assert.equal(windowed.code, 0, windowed.stderr)
  assert.equal((JSON.parse(windowed.stdout) as { hook: { dedupe_window_seconds: number } }).hook.dedupe_window_seconds, 600)
  // "none" and "default" reach the service as null, and so reset the field (not "" or 0).
  const set = await ductor(['webhook', 'edit', 'ci-failed', '--provider', 'codex', '--permission-mode', 'plan', '--quiet-start', '0', '--quiet-end', '6', '--dependency', 'ci', '--cli-param', '--x', '--json'], env)
  assert.equal(set.code, 0, set.stderr)
  const cleared = await ductor(['webhook', 'edit', 'ci-failed', '--provider', 'none', '--permission-mode', 'none', '--quiet-start', 'none', '--quiet-end', 'none',
    '--dependency', 'none', '--dedupe-window', 'default', '--cli-param', 'none', '--preset', 'none', '--json'], env)
  assert.equal(cleared.code, 0, cleared.stderr)
  const stored = JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')).hooks.find((h: { id: string }) => h.id === 'ci-failed')
  assert.deepEqual([stored.provider, stored.permission_mode, stored.quiet_start, stored.quiet_end, stored.dependency, stored.dedupe_window_seconds, stored.cli_parameters, stored.hmac_preset],
    [null, null, null, null, null, null, [], null])
  const badWindow = await ductor(['webhook', 'edit', 'ci-failed', '--dedupe-window', 'soon'], env)
  assert.match(badWindow.stderr, /use a number of seconds from 0 to 604800, or "default"/)
  const badMode = await ductor(['webhook', 'edit', 'ci-failed', '--mode', 'sleep'], env)
  assert.notEqual(badMode.code, 0)
  assert.match(badMode.stderr, /'sleep' is invalid\. use one of wake, cron_task/)

  for (const id of ['ci-failed', 'gh-push']) {
    const removed = await ductor(['webhook', 'remove', id], env)
    assert.equal(removed.stdout, `Removed webhook ${id}; senders now get 404.\n`)
  }
  assert.equal((await ductor(['webhook', 'list'], env)).stdout, '(none)\n')
  const gone = await ductor(['webhook', 'show', 'ci-failed'], env)
  assert.equal(gone.stderr, 'ductor: no webhook "ci-failed"; list them with ductor webhook list\n')
  assert.equal(await stop(), 0)
})

test('webhook options map onto the API\'s webhooks.json fields', () => {
  assert.deepEqual(hookBody({ mode: 'wake', auth: 'bearer', title: 'CI', template: 'x {{a}}', json: true }), { mode: 'wake', auth_mode: 'bearer', title: 'CI', prompt_template: 'x {{a}}' })
  assert.deepEqual(hookBody({ preset: 'stripe', secret: 'whsec_x' }), { hmac_preset: 'stripe', hmac_secret: 'whsec_x', auth_mode: 'hmac' }, '--preset implies --auth hmac')
  assert.deepEqual(hookBody({ preset: null }), { hmac_preset: null }, '--preset none clears it')
  assert.deepEqual(hookBody({ dedupeWindow: 600 }), { dedupe_window_seconds: 600 })
  assert.deepEqual(hookBody({ dedupeWindow: null }), { dedupe_window_seconds: null }, '--dedupe-window default: the mode\'s default')
  assert.deepEqual(hookBody({ auth: 'standard', secret: 'whsec_abc', tolerance: 60, dedupeHeader: 'X-Id' }), { auth_mode: 'standard', hmac_secret: 'whsec_abc', timestamp_tolerance_seconds: 60, dedupe_header: 'X-Id' })
  assert.deepEqual(hookBody({ mode: 'cron_task', taskFolder: 'ci', task: 'Triage it', provider: 'codex', reasoningEffort: 'high', quietStart: 22, quietEnd: 7, dependency: 'ci', cliParam: ['--a', 'b'] }),
    { mode: 'cron_task', task_folder: 'ci', task_description: 'Triage it', provider: 'codex', reasoning_effort: 'high', quiet_start: 22, quiet_end: 7, dependency: 'ci', cli_parameters: ['--a', 'b'] })
  assert.deepEqual(hookBody({ header: 'X-Sig', algorithm: 'sha1', encoding: 'base64', sigPrefix: 'v1=', sigRegex: 'v1=(\\w+)', payloadPrefixRegex: 't=(\\d+)', enabled: false }),
    { hmac_header: 'X-Sig', hmac_algorithm: 'sha1', hmac_encoding: 'base64', hmac_sig_prefix: 'v1=', hmac_sig_regex: 'v1=(\\w+)', hmac_payload_prefix_regex: 't=(\\d+)', enabled: false })
  assert.deepEqual(parsePayload('{"a":{"b":1}}'), { a: { b: 1 } })
  assert.throws(() => parsePayload('[1]'), /must be a JSON object/)
  assert.throws(() => parsePayload('{'), /not valid JSON/)
  assert.throws(() => parsePayload('@/nonexistent/payload.json'), /cannot read \/nonexistent\/payload\.json/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ductor, build } from '../helper.ts'

// What an outside tester found wrong in `ductor cron` / `ductor webhook` (ADR 0042), through the
// real command against one running service.

test('ids a URL cannot carry (".", "..", "") get the answer for an unknown id, not "no route"', async (t) => {
  const { env } = await build(t, { serve: true })
  const cases: Array<[string[], string]> = [
    [['webhook', 'show', '.'], 'ductor: no webhook "."; list them with ductor webhook list\n'],
    [['webhook', 'show', '..'], 'ductor: no webhook ".."; list them with ductor webhook list\n'],
    [['webhook', 'remove', ''], 'ductor: no webhook ""; list them with ductor webhook list\n'],
    [['webhook', 'edit', '..', '--title', 'x'], 'ductor: no webhook ".."; list them with ductor webhook list\n'],
    [['webhook', 'test', '.', '--wait'], 'ductor: no webhook "."; list them with ductor webhook list\n'],
    [['webhook', 'rotate', '..'], 'ductor: no webhook ".."; list them with ductor webhook list\n'],
    [['cron', 'show', '..'], 'ductor: no cron job ".."; list them with ductor cron list\n'],
    [['cron', 'remove', '.'], 'ductor: no cron job "."; list them with ductor cron list\n'],
    [['cron', 'run', '..'], 'ductor: no cron job ".."; list them with ductor cron list\n'],
    [['cron', 'show', 'My Job'], 'ductor: no cron job "My Job"; list them with ductor cron list\n'],
    [['runs', 'show', '.'], 'ductor: no run .; list the runs with: ductor runs\n'],
    [['runs', 'show', '..'], 'ductor: no run ..; list the runs with: ductor runs\n']
  ]
  for (const [args, stderr] of cases) {
    const result = await ductor(args, env)
    assert.deepEqual([result.code, result.stderr], [1, stderr], args.join(' '))
  }
  const chat = await ductor(['chat', '--chat', '..', 'hello'], env)
  assert.equal(chat.code, 1)
  assert.match(chat.stderr, /^ductor: --chat "\.\." is not a chat id: use a Telegram chat id \(e\.g\. 123456789/)
})

test('rotate on a signed hook names the command that changes its secret', async (t) => {
  const { env } = await build(t, { serve: true })
  const add = await ductor(['webhook', 'add', '--id', 'gh', '--preset', 'github', '--secret', 'gh-signing-secret-123', '--template', 'Push {{ref}}'], env)
  assert.equal(add.code, 0, add.stderr)
  const rotate = await ductor(['webhook', 'rotate', 'gh'], env)
  assert.equal(rotate.code, 1)
  assert.equal(rotate.stderr, 'ductor: webhook "gh" uses auth_mode "hmac": only bearer hooks have a token to rotate; ' +
    'to change its signing secret, set a new one at the sender and here with ductor webhook edit gh --secret <new secret>\n')
})

test('quiet hours: half a window is refused naming both options; "none" alone clears the whole window', async (t) => {
  const { home, env } = await build(t, { serve: true })
  const half = 'is set but --quiet-end is not: quiet hours need both (local hours 0-23, e.g. --quiet-start 22 and --quiet-end 7 skip runs from 22:00 to 06:59), or neither for none\n'
  const cron = await ductor(['cron', 'add', '--id', 'wake-up', '--schedule', '0 7 * * *', '--quiet-start', '7'], env)
  assert.deepEqual([cron.code, cron.stderr], [1, `ductor: --quiet-start ${half}`])
  const hook = await ductor(['webhook', 'add', '--id', 'ci', '--mode', 'cron_task', '--template', 'x', '--quiet-start', '7'], env)
  assert.deepEqual([hook.code, hook.stderr], [1, `ductor: invalid webhook: --quiet-start ${half}`])
  const hookEnd = await ductor(['webhook', 'add', '--id', 'ci', '--mode', 'cron_task', '--template', 'x', '--quiet-end', '7'], env)
  assert.match(hookEnd.stderr, /^ductor: invalid webhook: --quiet-end is set but --quiet-start is not/)
  const readJobs = async (): Promise<Array<Record<string, unknown>>> => JSON.parse(await readFile(join(home, 'cron_jobs.json'), 'utf8')).jobs
  assert.deepEqual(await readJobs().catch(() => []), [], 'nothing was created')

  assert.equal((await ductor(['cron', 'add', '--id', 'digest', '--schedule', '0 8 * * *', '--quiet-start', '22', '--quiet-end', '6'], env)).code, 0)
  assert.equal((await ductor(['webhook', 'add', '--id', 'ci', '--mode', 'cron_task', '--template', 'x', '--quiet-start', '22', '--quiet-end', '6'], env)).code, 0)
  const moved = await ductor(['cron', 'edit', 'digest', '--quiet-end', '5'], env)
  assert.equal(moved.code, 0, 'one bound of a whole window changes alone')
  assert.match(moved.stdout, /quiet hours\s+22:00-05:00 \(the job's own; skipped in this window\)/)
  const hookHalf = await ductor(['webhook', 'edit', 'ci', '--quiet-start', '1', '--quiet-end', 'none'], env)
  assert.match(hookHalf.stderr, /^ductor: invalid webhook: --quiet-start is set but --quiet-end is not/)
  for (const [kind, id] of [['cron', 'digest'], ['webhook', 'ci']] as const) {
    const cleared = await ductor([kind, 'edit', id, '--quiet-start', 'none', '--json'], env)
    assert.equal(cleared.code, 0, cleared.stderr)
    const record = (JSON.parse(cleared.stdout) as Record<string, { quiet_start: unknown, quiet_end: unknown }>)[kind === 'cron' ? 'job' : 'hook']
    assert.deepEqual([record?.quiet_start, record?.quiet_end], [null, null], `${kind}: --quiet-start none clears the window`)
  }
  const shown = await ductor(['webhook', 'show', 'ci'], env)
  assert.match(shown.stdout, /quiet hours\s+none of its own \(a cron-wide cron\.quiet_start\/quiet_end applies when set\)/)
})

test('webhook add --token "" uses the global webhooks.token, as the API says; options that do nothing get a note', async (t) => {
  const GLOBAL = 'global-hook-token-0123456789abcdef'
  const { home, env } = await build(t, { serve: true, config: { webhooks: { enabled: true, token: GLOBAL } } })
  const add = await ductor(['webhook', 'add', '--id', 'ci', '--template', 'CI {{status}}', '--token', ''], env)
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /^\s+token\s+the global webhooks\.token \(none of its own\)$/m)
  assert.ok(!add.stdout.includes('The token is shown only now'))
  assert.match(add.stdout, /-H 'Authorization: Bearer <webhooks\.token>'/)
  assert.equal(add.stderr, '', 'nothing to note')
  assert.equal(JSON.parse(await readFile(join(home, 'webhooks.json'), 'utf8')).hooks[0].token, '')
  const url = /^\s+url\s+(\S+)$/m.exec(add.stdout)?.[1] ?? ''
  const sent = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${GLOBAL}`, 'content-type': 'application/json' }, body: '{"status":"red"}' })
  assert.equal(sent.status, 202, 'the global token authenticates the hook')

  // Options that a wake hook (or a Claude run) never uses: saved, the command succeeds, a note says so.
  const wake = await ductor(['webhook', 'add', '--id', 'wake', '--template', 'x', '--provider', 'codex', '--model', 'gpt-5', '--task', 'Triage'], env)
  assert.equal(wake.code, 0, wake.stderr)
  assert.equal(wake.stderr, 'ductor: note: --provider, --model, --task do nothing for this hook: a wake hook runs in the chat\'s own session ' +
    '(the chat\'s provider and model, at any hour, no task folder); these apply only with --mode cron_task\n')
  assert.match(wake.stdout, /^\s+not used\s+--provider --model: a wake hook runs/m)
  const effort = await ductor(['cron', 'add', '--id', 'daily', '--schedule', '0 8 * * *', '--provider', 'claude', '--reasoning-effort', 'high'], env)
  assert.equal(effort.code, 0, effort.stderr)
  assert.equal(effort.stderr, 'ductor: note: --reasoning-effort does nothing for this job: it is for Codex only, and its runs use Claude\n')
  const hookEffort = await ductor(['webhook', 'add', '--id', 'task', '--mode', 'cron_task', '--template', 'x', '--model', 'sonnet', '--reasoning-effort', 'low'], env)
  assert.equal(hookEffort.stderr, 'ductor: note: --reasoning-effort does nothing for this hook: it is for Codex only, and its runs use Claude\n')
  const codex = await ductor(['cron', 'edit', 'daily', '--provider', 'codex'], env)
  assert.deepEqual([codex.code, codex.stderr], [0, ''], 'with Codex the effort applies: no note')
  const bearerSecret = await ductor(['webhook', 'add', '--id', 'b', '--template', 'x', '--secret', 'abcdefabcdef', '--tolerance', '60'], env)
  assert.equal(bearerSecret.code, 0, bearerSecret.stderr)
  assert.equal(bearerSecret.stderr, 'ductor: note: --secret, --tolerance do nothing for this hook: it authenticates with a bearer token; signing options apply with --auth hmac or --auth standard\n')
  const presetToken = await ductor(['webhook', 'add', '--id', 'gh', '--preset', 'github', '--secret', 'abcdefabcdef', '--header', 'X-Sig', '--token', 'a-token-of-twenty-chars', '--template', 'x'], env)
  assert.equal(presetToken.stderr, 'ductor: note: --token does nothing for this hook: it authenticates by signature (hmac); a token applies with --auth bearer\n' +
    'ductor: note: --header does nothing for this hook: the github preset fixes the header and the signature format\n')
  const generic = await ductor(['webhook', 'add', '--id', 'sig', '--auth', 'hmac', '--secret', 'abcdefabcdef', '--header', 'X-Sig', '--algorithm', 'sha1', '--template', 'x'], env)
  assert.deepEqual([generic.code, generic.stderr], [0, ''], 'options that apply get no note')
  const unrelated = await ductor(['webhook', 'edit', 'wake', '--title', 'Wake'], env)
  assert.deepEqual([unrelated.code, unrelated.stderr], [0, ''], 'an edit that touches none of them says nothing')
})

test('show prints every run setting; errors name the options, not the API fields', async (t) => {
  const { env } = await build(t, { serve: true })
  const hook = await ductor(['webhook', 'add', '--id', 'task', '--mode', 'cron_task', '--template', 'x', '--provider', 'codex', '--model', 'gpt-5',
    '--reasoning-effort', 'high', '--cli-param', '--search', '--dedupe-header', 'X-Request-Id', '--dependency', 'ci'], env)
  assert.equal(hook.code, 0, hook.stderr)
  const show = (await ductor(['webhook', 'show', 'task'], env)).stdout
  assert.match(show, /^\s+provider\s+codex gpt-5, reasoning effort high$/m)
  assert.match(show, /^\s+cli params\s+--search$/m)
  assert.match(show, /^\s+dedupe header\s+X-Request-Id$/m)
  assert.match(show, /^\s+dependency\s+ci$/m)
  assert.equal((await ductor(['cron', 'add', '--id', 'daily', '--schedule', '0 8 * * *', '--instruction', 'Read TASK_DESCRIPTION.md and do it.',
    '--model', 'gpt-5', '--reasoning-effort', 'xhigh', '--cli-param', '--search'], env)).code, 0)
  const cron = (await ductor(['cron', 'show', 'daily'], env)).stdout
  assert.match(cron, /^\s+instruction\s+Read TASK_DESCRIPTION\.md and do it\.$/m)
  assert.match(cron, /^\s+provider\s+codex gpt-5, reasoning effort xhigh$/m)
  assert.match(cron, /^\s+cli params\s+--search$/m)

  const errors: Array<[string[], string]> = [
    [['webhook', 'add', '--id', 'a', '--template', 'x', '--title', ''], 'ductor: --title must not be empty\n'],
    [['webhook', 'add', '--id', 'a', '--template', ''], 'ductor: --template must not be empty\n'],
    [['webhook', 'edit', 'task', '--template', ''], 'ductor: --template must not be empty\n'],
    [['webhook', 'add', '--id', 'a', '--template', 'x', '--auth', 'hmac'],
      'ductor: invalid webhook: --secret is required when --auth is "hmac"; --header must be a header name (e.g. "X-Hub-Signature-256") when --auth is "hmac" and no --preset is set\n'],
    [['webhook', 'add', '--id', 'A b', '--template', 'x'], 'ductor: --id must be 1-64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit\n'],
    [['cron', 'add', '--id', 'b', '--schedule', '0 8 * * *', '--task-folder', '../x'], 'ductor: --task-folder must be 1-64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit\n'],
    [['cron', 'add', '--id', 'b', '--schedule', '0 8 * * *', '--title', ''], 'ductor: --title must not be empty\n'],
    [['cron', 'edit', 'daily', '--timezone', 'Mars/Base'], 'ductor: --timezone "Mars/Base" is not a known IANA time zone (e.g. Europe/Berlin)\n'],
    [['webhook', 'edit', 'task', '--dedupe-header', ''], 'ductor: invalid webhook: --dedupe-header must be a header name (e.g. "X-Request-Id") or "none"\n'],
    [['memory', 'edit', '--file', '/nonexistent/memory.md'], 'ductor: --file /nonexistent/memory.md: no such file; the memory was not changed\n']
  ]
  for (const [args, stderr] of errors) {
    const result = await ductor(args, env)
    assert.deepEqual([result.code, result.stderr], [1, stderr], args.join(' '))
  }
  for (const json of [[], ['--json']]) {
    const chat = await ductor(['chat', '--model', 'nope', ...json, 'hello'], env)
    assert.equal(chat.code, 1)
    assert.match(chat.stderr, /^ductor: --model: unknown model "nope"; known: Claude: opus/)
  }
})

test('a model of the other provider than the one named is refused on add and edit, naming both options and the provider\'s models; the API answers 400 naming model (ADR 49)', async (t) => {
  const { home, env, app } = await build(t, { serve: true })
  const claudeModels = 'opus, sonnet, haiku or a claude-… id'
  const cases: Array<[string[], string]> = [
    [['cron', 'add', '--id', 'mixed', '--schedule', '0 8 * * *', '--provider', 'claude', '--model', 'gpt-5'],
      `ductor: --model "gpt-5" is a Codex model, but the provider is claude; use one of ${claudeModels}, or set --provider codex too\n`],
    [['webhook', 'add', '--id', 'mixed', '--mode', 'cron_task', '--template', 'x', '--provider', 'claude', '--model', 'gpt-5'],
      `ductor: invalid webhook: --model "gpt-5" is a Codex model, but the provider is claude; use one of ${claudeModels}, or set --provider codex too\n`]
  ]
  for (const [args, stderr] of cases) {
    const result = await ductor(args, env)
    assert.deepEqual([result.code, result.stderr], [1, stderr], args.join(' '))
  }
  const codex = await ductor(['cron', 'add', '--id', 'mixed', '--schedule', '0 8 * * *', '--provider', 'codex', '--model', 'sonnet'], env)
  assert.equal(codex.code, 1)
  assert.match(codex.stderr, /^ductor: --model "sonnet" is a Claude model, but the provider is codex; use one of gpt-[^;]+, or set --provider claude too\n$/)
  assert.deepEqual(JSON.parse(await readFile(join(home, 'cron_jobs.json'), 'utf8').catch(() => '{"jobs":[]}')).jobs, [], 'nothing was created')

  // An edit that leaves the pair mismatched: a provider alone on a job with a model, a model alone on one with a provider.
  assert.equal((await ductor(['cron', 'add', '--id', 'daily', '--schedule', '0 8 * * *', '--model', 'sonnet'], env)).code, 0)
  const provider = await ductor(['cron', 'edit', 'daily', '--provider', 'codex'], env)
  assert.equal(provider.code, 1)
  assert.match(provider.stderr, /^ductor: --model "sonnet" is a Claude model, but the provider is codex; use one of gpt-/)
  assert.equal((await ductor(['webhook', 'add', '--id', 'ci', '--mode', 'cron_task', '--template', 'x', '--provider', 'codex'], env)).code, 0)
  const model = await ductor(['webhook', 'edit', 'ci', '--model', 'opus'], env)
  assert.match(model.stderr, /^ductor: invalid webhook: --model "opus" is a Claude model, but the provider is codex; use one of gpt-.*, or set --provider claude too\n$/)
  // Both together, or the provider's own model, are fine.
  assert.equal((await ductor(['cron', 'edit', 'daily', '--provider', 'codex', '--model', 'gpt-5'], env)).code, 0)
  assert.equal((await ductor(['webhook', 'edit', 'ci', '--provider', 'claude', '--model', 'opus'], env)).code, 0)

  // The API itself: a 400 naming the field, the provider's models and the way out.
  const token = (JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')) as { admin: { token: string } }).admin.token
  for (const [url, body] of [['/api/cron', { id: 'api', title: 'API', schedule: '0 8 * * *', provider: 'claude', model: 'gpt-5' }], ['/api/webhooks', { id: 'api', title: 'API', mode: 'cron_task', task_folder: 'api', prompt_template: 'x', provider: 'claude', model: 'gpt-5' }]] as const) {
    const response = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: body })
    assert.equal(response.statusCode, 400, url)
    assert.match((response.json() as { message: string }).message, /model "gpt-5" is a Codex model, but the provider is claude; use one of opus, sonnet, haiku or a claude-… id, or set "provider": "codex" too$/, url)
  }
})

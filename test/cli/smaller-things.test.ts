// Issue 16, item 12, through the real `ductor` commands against a running service (fake CLIs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, ductor, build } from '../helper.ts'
import { localTime } from '../../src/cli/output.ts'

test('validator and route messages read as CLI sentences; costs carry no float noise; lists show local time with the zone; /help is ductor\'s', async (t) => {
  const record = join(await tempDir(t), 'cli-run.json')
  const { env, stop } = await build(t, { serve: true, env: { DUCTOR_USER_TIMEZONE: 'Asia/Kolkata', FAKE_CLI_TRANSCRIPT: 'claude-append-system-prompt.jsonl' } })

  const kind = await ductor(['runs', '--kind', 'foo'], env)
  assert.equal(kind.code, 1)
  assert.match(kind.stderr, /^ductor: --kind must be one of chat, cron, webhook, heartbeat/)
  assert.doesNotMatch(kind.stderr, /constant|anyOf|querystring/)
  const limit = await ductor(['runs', '--limit', 'many'], env)
  assert.match(limit.stderr, /^ductor: --limit must be an integer\n$/)
  const missing = await ductor(['cron', 'show', 'nope'], env)
  assert.equal(missing.stderr, 'ductor: no cron job "nope"; list them with ductor cron list\n')
  const hook = await ductor(['webhook', 'show', 'nope'], env)
  assert.equal(hook.stderr, 'ductor: no webhook "nope"; list them with ductor webhook list\n')

  const help = await ductor(['chat', '/help'], { ...env, FAKE_CLI_RECORD: record })
  assert.equal(help.code, 0, help.stderr)
  assert.match(help.stdout, /Commands/)
  assert.match(help.stdout, /\/new — /)
  assert.match(help.stdout, /\/model — /)
  await assert.rejects(access(record), 'no CLI ran: /help never reaches the model')

  const chat = await ductor(['chat', '--json', 'hello'], env)
  assert.equal((JSON.parse(chat.stdout) as { status: string }).status, 'success', chat.stderr)
  const runs = JSON.parse((await ductor(['runs', '--json'], env)).stdout) as Array<{ cost_usd: number, started_at: string }>
  assert.equal(runs[0]?.cost_usd, 0.025599, 'the CLI\'s 0.025598999999999997, rounded to a millionth')
  const list = await ductor(['runs'], env)
  assert.match(list.stdout, /^STARTED \(ASIA\/KOLKATA\) /)
  assert.ok(list.stdout.includes(localTime(runs[0]?.started_at, 'Asia/Kolkata') ?? 'x'), 'started in the user\'s zone')
  assert.ok(list.stdout.includes(' 0.025599 '))
  assert.doesNotMatch(list.stdout, /0\.0255989|T\d\d:\d\d/)
  const sessions = await ductor(['sessions'], env)
  assert.match(sessions.stdout, /LAST ACTIVE \(ASIA\/KOLKATA\)/)
  assert.match(sessions.stdout, / 0\.025599 /)
  await stop()
})

test('`ductor runs --help` shows the --limit default once', async () => {
  const help = await ductor(['runs', '--help'], {})
  const line = help.stdout.split('\n').find((l) => l.includes('--limit')) ?? ''
  assert.equal(line.match(/20/g)?.length, 1, line)
})

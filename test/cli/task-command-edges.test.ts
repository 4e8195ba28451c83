import { test } from 'node:test'
import assert from 'node:assert/strict'
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

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readServiceInfo } from '../../src/home/service-info.ts'
import { ductor, build } from '../helper.ts'

const ADMIN = 'run-results-admin-token-0123456789abcdef'

/**
 * Issue 16, items 2 and 3: without Telegram, a job's result is visible (cron run --wait, runs show,
 * GET /api/runs/:id), and a job runs at any hour unless its own or the cron-wide window says not.
 */
test('cron run --wait prints the reply; runs show and GET /api/runs/:id keep it, bounded and masked; quiet hours are none by default', async (t) => {
  const { home, env, stop } = await build(t, { serve: true, env: { DUCTOR_ADMIN_TOKEN: ADMIN, DUCTOR_USER_TIMEZONE: 'Asia/Tokyo' } })
  const info = await readServiceInfo(join(home, 'state'))
  const api = async (path: string): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${info!.admin_url ?? ''}/api${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }

  const add = await ductor(['cron', 'add', '--id', 'wake', '--schedule', '0 7 * * *', '--title', 'Wake me',
    '--instruction', `[[reply:Good morning! The admin token is ${ADMIN}.]]`], env)
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /quiet hours\s+none \(runs at any hour\)/, 'the heartbeat\'s 21→8 does not apply to a job')

  const run = await ductor(['cron', 'run', 'wake', '--wait'], env)
  assert.equal(run.code, 0, run.stderr)
  const runId = /finished: success \(run (\S+)\)/.exec(run.stdout)?.[1]
  assert.ok(runId !== undefined, run.stdout)
  assert.match(run.stdout, /^Good morning! The admin token is \[REDACTED\]\.$/m, 'the reply is printed, the secret masked')
  assert.doesNotMatch(run.stdout, new RegExp(ADMIN))

  const shown = await ductor(['runs', 'show', runId], env)
  assert.equal(shown.code, 0, shown.stderr)
  assert.match(shown.stdout, /status\s+success/)
  assert.match(shown.stdout, /kind\s+cron wake/)
  // Times in the user's zone, named, as in every list (issue 16 item 12).
  const started = /started\s+(\d{4}-\d\d-\d\d \d\d):\d\d:\d\d \(Asia\/Tokyo\)/.exec(shown.stdout)
  const tokyoHour = (ms: number): string => new Date(ms + 9 * 3600_000).toISOString().slice(0, 13).replace('T', ' ')
  assert.ok(started !== null && [tokyoHour(Date.now()), tokyoHour(Date.now() - 120_000)].includes(started[1] ?? ''), shown.stdout)
  assert.match(shown.stdout, /^Good morning! The admin token is \[REDACTED\]\.$/m)

  const byApi = await api(`/runs/${runId}`)
  assert.equal(byApi.status, 200)
  assert.equal(byApi.body['id'], runId)
  assert.equal(byApi.body['reply'], 'Good morning! The admin token is [REDACTED].')
  assert.equal(byApi.body['error'], null)
  const listed = await api('/runs?kind=cron')
  assert.equal((listed.body['runs'] as Array<Record<string, unknown>>)[0]?.['id'], runId)
  assert.equal('reply' in ((listed.body['runs'] as Array<Record<string, unknown>>)[0] ?? {}), false, 'lists stay small: no replies')
  const stored = await readFile(join(home, 'state', 'runs.jsonl'), 'utf8')
  assert.doesNotMatch(stored, new RegExp(ADMIN), 'the secret is not on disk either')

  // A long reply is kept bounded, with a note.
  await ductor(['cron', 'edit', 'wake', '--instruction', `[[reply:${'x'.repeat(9000)}]]`], env)
  const long = await ductor(['cron', 'run', 'wake', '--wait', '--json'], env)
  assert.equal(long.code, 0, long.stderr)
  const longRun = JSON.parse(long.stdout) as { reply: string }
  assert.equal(longRun.reply, `${'x'.repeat(8000)}\n… [1000 more characters not kept]`)

  // A failed run keeps its error text and prints it; exit 1.
  await ductor(['cron', 'edit', 'wake', '--instruction', '[[exit:3]] [[stderr:model overloaded]]'], env)
  const failed = await ductor(['cron', 'run', 'wake', '--wait'], env)
  assert.equal(failed.code, 1)
  assert.match(failed.stdout, /finished: error:exit_3/)
  assert.match(failed.stdout, /error\s+\S.*/)
  const failedId = /\(run (\S+)\)/.exec(failed.stdout)?.[1]
  const failedRun = await api(`/runs/${failedId ?? ''}`)
  assert.equal(failedRun.body['status'], 'error:exit_3')
  assert.equal(typeof failedRun.body['error'], 'string')

  assert.equal((await api('/runs/nope-123')).status, 404)
  const missing = await ductor(['runs', 'show', 'nope-123'], env)
  assert.equal(missing.code, 1)
  assert.equal(missing.stderr, 'ductor: no run nope-123; list the runs with: ductor runs\n')

  // The plain list still works next to the new subcommand.
  const list = await ductor(['runs', '--kind', 'cron'], env)
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stdout, new RegExp(runId))

  // A job's own window, shown as such.
  const edit = await ductor(['cron', 'edit', 'wake', '--quiet-start', '22', '--quiet-end', '6'], env)
  assert.match(edit.stdout, /quiet hours\s+22:00-06:00 \(the job's own; skipped in this window\)/)
  assert.equal(await stop(), 0)
})

test('cron show prints the cron-wide window (cron.quiet_start/quiet_end) a job without its own falls under', async (t) => {
  const { env, stop } = await build(t, { serve: true, config: { cron: { quiet_start: 23, quiet_end: 5 }, heartbeat: { quiet_start: 21, quiet_end: 8 } } })
  const add = await ductor(['cron', 'add', '--id', 'night', '--schedule', '0 2 * * *'], env)
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /quiet hours\s+23:00-05:00 \(cron-wide, from cron\.quiet_start\/quiet_end in config\.json; skipped in this window\)/)
  const json = JSON.parse((await ductor(['cron', 'show', 'night', '--json'], env)).stdout)
  assert.deepEqual(json.quiet_hours, { start: 23, end: 5, source: 'cron' })
  assert.equal(await stop(), 0)
})

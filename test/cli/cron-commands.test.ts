import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ductor, build } from '../helper.ts'

test('ductor cron add/list/show/edit/run/remove manage jobs through the running service', async (t) => {
  const { home, env, stop } = await build(t, { serve: true, env: { FAKE_CLI_REPLY: 'Digest sent.' } })

  const add = await ductor(['cron', 'add', '--id', 'hn-digest', '--schedule', '0 8 * * *', '--timezone', 'Europe/Berlin',
    '--title', 'HN digest', '--description', 'Morning AI stories from Hacker News',
    '--task', 'Check the Hacker News front page and send me the AI-related stories with one line each.'], env)
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /^Created cron job hn-digest: HN digest$/m)
  assert.match(add.stdout, /schedule\s+0 8 \* \* \* \(Europe\/Berlin\)/)
  assert.match(add.stdout, /next runs\s+\w{3} \d{4}-\d\d-\d\d 08:00\n(\s+\w{3} \d{4}-\d\d-\d\d 08:00\n){4}/, 'five next runs, in the job\'s zone')
  const description = await readFile(join(home, 'workspace', 'cron_tasks', 'hn-digest', 'TASK_DESCRIPTION.md'), 'utf8')
  assert.match(description, /Check the Hacker News front page/)

  const list = await ductor(['cron', 'list'], env)
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stdout, /^ID\s+SCHEDULE\s+SCHEDULE ZONE\s+ON\s+NEXT RUN \(UTC\)\s+LAST STATUS\s+TITLE$/m)
  assert.match(list.stdout, /^hn-digest\s+0 8 \* \* \*\s+Europe\/Berlin\s+yes\s+\w{3} \d{4}-\d\d-\d\d 0[67]:00\s+-\s+HN digest$/m)

  const edit = await ductor(['cron', 'edit', 'hn-digest', '--schedule', '30 7 * * *', '--model', 'sonnet', '--quiet-start', '22', '--quiet-end', '6', '--json'], env)
  assert.equal(edit.code, 0, edit.stderr)
  const edited = JSON.parse(edit.stdout)
  assert.equal(edited.job.schedule, '30 7 * * *')
  assert.equal(edited.job.model, 'sonnet')
  assert.deepEqual([edited.job.quiet_start, edited.job.quiet_end], [22, 6])
  assert.equal(edited.next_runs.length, 5)
  const off = await ductor(['cron', 'edit', 'hn-digest', '--enabled', 'false', '--model', 'none'], env)
  assert.match(off.stdout, /enabled\s+no/, off.stderr)
  assert.match(off.stdout, /next runs\s+none \(disabled\)/)

  const show = JSON.parse((await ductor(['cron', 'show', 'hn-digest', '--json'], env)).stdout)
  assert.equal(show.job.enabled, false)
  assert.equal(show.job.model, null)

  const run = await ductor(['cron', 'run', 'hn-digest', '--wait'], env)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /^Cron job hn-digest finished: success \(run \S+\)$/m)
  const runs = JSON.parse((await ductor(['runs', '--kind', 'cron', '--json'], env)).stdout)
  assert.equal(runs[0].ref, 'hn-digest')
  assert.equal(runs[0].status, 'success')

  const badSchedule = await ductor(['cron', 'add', '--id', 'bad', '--schedule', '0 8 * *'], env)
  assert.equal(badSchedule.code, 1)
  assert.equal(badSchedule.stderr, 'ductor: --schedule "0 8 * *" must have exactly 5 fields: minute hour day-of-month month day-of-week\n')
  const badHour = await ductor(['cron', 'edit', 'hn-digest', '--quiet-start', '25'], env)
  assert.notEqual(badHour.code, 0)
  assert.match(badHour.stderr, /--quiet-start <hour>.*'25' is invalid\. use an hour from 0 to 23/)
  const unknown = await ductor(['cron', 'show', 'nope'], env)
  assert.equal(unknown.code, 1)
  assert.equal(unknown.stderr, 'ductor: no cron job "nope"; list them with ductor cron list\n')
  const nothing = await ductor(['cron', 'edit', 'hn-digest'], env)
  assert.match(nothing.stderr, /nothing to change/)

  const remove = await ductor(['cron', 'remove', 'hn-digest'], env)
  assert.equal(remove.code, 0, remove.stderr)
  assert.equal(remove.stdout, 'Removed cron job hn-digest; its task folder is kept.\n')
  assert.ok(await stat(join(home, 'workspace', 'cron_tasks', 'hn-digest')).then(() => true))
  assert.equal((await ductor(['cron', 'list'], env)).stdout, '(none)\n')
  assert.deepEqual(JSON.parse((await ductor(['cron', 'list', '--json'], env)).stdout), [])

  assert.equal(await stop(), 0)
  const down = await ductor(['cron', 'list'], env)
  assert.equal(down.code, 1)
  assert.match(down.stderr, /^ductor: the ductor service is not running \(home .*\); start it with: ductor serve\n$/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { waitFor, ductor, build } from '../helper.ts'

/**
 * Issue 16, item 9 (and the stored zones and `H` of item 10): hand edits of cron_jobs.json. A misspelt
 * zone is refused loudly for that job, one bad job never hides the others, and a broken job can be
 * fixed one field at a time. Through `ductor cron …` against a running service.
 */
test('hand-edited jobs with a bad zone or schedule are listed with their problem, never run, and are fixed one field at a time', async (t) => {
  const { home, env, stop } = await build(t, { serve: true })
  const add = await ductor(['cron', 'add', '--id', 'good', '--schedule', '0 7 * * *', '--timezone', 'utc'], env)
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /schedule\s+0 7 \* \* \* \(UTC\)/, 'the zone is stored canonical')
  const path = join(home, 'cron_jobs.json')
  assert.equal(JSON.parse(await readFile(path, 'utf8')).jobs[0].timezone, 'UTC')

  const base = { agent_instruction: 'Read TASK_DESCRIPTION.md and do it.', enabled: true }
  const file = JSON.parse(await readFile(path, 'utf8'))
  file.jobs.push(
    { ...base, id: 'typo-zone', title: 'Typo zone', schedule: '0 7 * * *', task_folder: 'typo-zone', timezone: 'Europe/Berln' },
    { ...base, id: 'both-bad', title: 'Both bad', schedule: '61 7 * * *', task_folder: 'both-bad', timezone: 'Mars/Olympus' },
    { ...base, id: 'lower', title: 'Lower case', schedule: '30 6 * * *', task_folder: 'lower', timezone: 'europe/berlin' }
  )
  await writeFile(path, JSON.stringify(file, null, 2))

  const list = await waitFor(async () => {
    const run = await ductor(['cron', 'list'], env)
    return run.stdout.includes('both-bad') ? run : undefined
  }, 120_000, 'the hand edit to be picked up')
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stdout, /^good\s+0 7 \* \* \*\s+UTC\s+yes\s+\w{3} \d{4}-\d\d-\d\d 07:00/m, 'the good job is listed as before')
  assert.match(list.stdout, /^typo-zone\s+0 7 \* \* \*\s+Europe\/Berln\s+yes\s+never: broken \(ductor cron show typo-zone\)/m, 'the misspelt zone is shown as typed, not replaced')
  assert.match(list.stdout, /^both-bad\s+61 7 \* \* \*\s+Mars\/Olympus\s+yes\s+never: broken/m)
  assert.match(list.stdout, /^lower\s+30 6 \* \* \*\s+Europe\/Berlin\s+yes\s+\w{3} \d{4}-\d\d-\d\d 0[45]:30/m, 'a known zone typed in lower case works, in its canonical spelling (the list shows UTC)')

  const json = JSON.parse((await ductor(['cron', 'list', '--json'], env)).stdout) as Array<{ job: { id: string }, problem: string | null, next_runs: string[] }>
  const byId = Object.fromEntries(json.map((v) => [v.job.id, v]))
  assert.equal(byId['good']?.problem, null)
  assert.match(byId['typo-zone']?.problem ?? '', /^timezone "Europe\/Berln" is not a known IANA time zone/)
  assert.deepEqual(byId['typo-zone']?.next_runs, [])

  const show = await ductor(['cron', 'show', 'typo-zone'], env)
  assert.equal(show.code, 0, show.stderr)
  assert.match(show.stdout, /PROBLEM\s+timezone "Europe\/Berln" is not a known IANA time zone \(e\.g\. Europe\/Berlin, UTC\); the job does not run until it is fixed: ductor cron edit typo-zone --timezone …/)
  assert.match(show.stdout, /schedule\s+0 7 \* \* \* \(Europe\/Berln\)/)
  assert.match(show.stdout, /next runs\s+none \(see the problem above\)/)

  // One field at a time: the zone first (the schedule is still bad), then the schedule.
  const zone = await ductor(['cron', 'edit', 'both-bad', '--timezone', 'europe/berlin'], env)
  assert.equal(zone.code, 0, zone.stderr)
  assert.match(zone.stdout, /PROBLEM\s+schedule "61 7 \* \* \*" is not a valid cron expression/)
  assert.match(zone.stdout, /schedule\s+61 7 \* \* \* \(Europe\/Berlin\)/)
  const schedule = await ductor(['cron', 'edit', 'both-bad', '--schedule', '1 7 * * *'], env)
  assert.equal(schedule.code, 0, schedule.stderr)
  assert.doesNotMatch(schedule.stdout, /PROBLEM/)
  assert.match(schedule.stdout, /next runs\s+\w{3} \d{4}-\d\d-\d\d 07:01/)
  const fixed = JSON.parse(await readFile(path, 'utf8')).jobs.find((j: { id: string }) => j.id === 'both-bad')
  assert.deepEqual([fixed.schedule, fixed.timezone], ['1 7 * * *', 'Europe/Berlin'])

  // A bad value given to edit is still refused, naming it.
  const bad = await ductor(['cron', 'edit', 'typo-zone', '--timezone', 'Europe/Berlinn'], env)
  assert.equal(bad.code, 1)
  assert.equal(bad.stderr, 'ductor: --timezone "Europe/Berlinn" is not a known IANA time zone (e.g. Europe/Berlin)\n')

  // `H` would move the job at every restart: refused.
  const hashed = await ductor(['cron', 'add', '--id', 'hashed', '--schedule', 'H 7 * * *'], env)
  assert.equal(hashed.code, 1)
  assert.equal(hashed.stderr, 'ductor: --schedule "H 7 * * *": H (a hashed/random value) is not supported; write a fixed value instead, e.g. "17 * * * *"\n')

  // The service's plan (GET /api/status, next cron runs) has the good jobs and never the broken one.
  const info = JSON.parse(await readFile(join(home, 'state', 'service.json'), 'utf8')) as { url: string, admin_url?: string }
  const token = JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')).admin.token as string
  const status = await (await fetch(`${info.admin_url ?? info.url}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json() as Record<string, unknown>
  const planned = JSON.stringify(status)
  assert.match(planned, /"good"/)
  assert.match(planned, /"lower"/)
  assert.doesNotMatch(planned, /typo-zone/)
  assert.equal(await stop(), 0)
})

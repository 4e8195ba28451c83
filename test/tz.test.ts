import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { canonicalTimezone, firstInstantOf, isValidTimezone, localParts, offsetAt, wallClock } from '../src/tz.ts'

const wall = (iso: string): number => Date.parse(`${iso}Z`)

test('wall clock and offset of an instant', () => {
  const summer = Date.parse('2026-07-01T12:00:00.250Z')
  assert.equal(wallClock(summer, 'Europe/Berlin'), wall('2026-07-01T14:00:00.250'))
  assert.equal(offsetAt(summer, 'Europe/Berlin'), 2 * 3_600_000)
  assert.equal(offsetAt(summer, 'America/New_York'), -4 * 3_600_000)
  assert.equal(offsetAt(summer, 'Asia/Kolkata'), 5.5 * 3_600_000)
  assert.deepEqual(localParts(Date.parse('2026-12-31T23:30:00Z'), 'Asia/Tokyo'), { year: 2027, month: 1, day: 1, hour: 8, minute: 30, dayKey: '2027-01-01' })
  assert.equal(localParts(Date.parse('2026-07-01T00:30:00Z'), 'UTC').hour, 0, 'midnight is hour 0, not 24')
})

test('firstInstantOf: a missing local time gives null, a repeated one its first occurrence', () => {
  assert.equal(firstInstantOf(wall('2026-03-29T02:30:00'), 'Europe/Berlin'), null)
  assert.equal(firstInstantOf(wall('2026-03-29T03:00:00'), 'Europe/Berlin'), Date.parse('2026-03-29T01:00:00Z'))
  assert.equal(firstInstantOf(wall('2026-10-25T02:30:00'), 'Europe/Berlin'), Date.parse('2026-10-25T00:30:00Z'))
  assert.equal(firstInstantOf(wall('2026-11-01T01:30:00'), 'America/New_York'), Date.parse('2026-11-01T05:30:00Z'))
  assert.equal(firstInstantOf(wall('2026-03-08T02:00:00'), 'America/New_York'), null)
  assert.equal(firstInstantOf(wall('2026-06-01T09:00:00'), 'UTC'), Date.parse('2026-06-01T09:00:00Z'))
})

test('isValidTimezone knows IANA names and refuses the rest', () => {
  for (const ok of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+5']) assert.ok(isValidTimezone(ok), ok)
  for (const bad of ['', ' ', 'Europe/Berlin ', 'Mars/Olympus', ':/etc/localtime', null, 42]) assert.equal(isValidTimezone(bad), false, String(bad))
})

test('UTC without Intl: the same wall clock and names as Intl gives (ADR 47)', () => {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
  for (let i = 0; i < 500; i++) {
    const instant = Math.floor(Math.random() * 4_102_444_800_000) // 1970–2100
    const p = Object.fromEntries(fmt.formatToParts(new Date(instant - (instant % 1000))).map((x) => [x.type, Number(x.value)]))
    assert.equal(wallClock(instant, 'UTC'), Date.UTC(p['year'] as number, (p['month'] as number) - 1, p['day'], p['hour'], p['minute'], p['second']) + (instant % 1000), String(instant))
  }
  assert.equal(canonicalTimezone('UTC'), 'UTC')
  assert.equal(canonicalTimezone('utc'), new Intl.DateTimeFormat('en-US', { timeZone: 'utc' }).resolvedOptions().timeZone)
})

test('the host zone told without Intl on a UTC host is the name Intl gives, and other hosts still ask Intl', () => {
  // Each in a fresh node: the host zone is read once per $TZ, and ICU reads $TZ when it starts.
  const probe = "import { hostTimezone } from './src/tz.ts'; console.log(JSON.stringify([hostTimezone(), new Intl.DateTimeFormat().resolvedOptions().timeZone]))"
  for (const tz of [undefined, 'UTC', 'Etc/UTC', 'GMT', 'Europe/Berlin']) {
    const env: NodeJS.ProcessEnv = { ...process.env }
    if (tz === undefined) delete env['TZ']
    else env['TZ'] = tz
    const [ours, intl] = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { env, encoding: 'utf8' })) as [string, string]
    assert.equal(ours, intl, `TZ=${String(tz)}`)
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { firstInstantOf, isValidTimezone, localParts, offsetAt, wallClock } from '../src/tz.ts'

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

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isQuiet, resolveQuietWindow } from '../../src/automation/quiet-hours.ts'

/** The instant of a local Berlin summer time (UTC+2) on 2026-06-15. */
function berlin (hour: number, minute = 0): number {
  return Date.UTC(2026, 5, 15, hour - 2, minute)
}

test('a window that wraps past midnight (21 → 8) is quiet from 21:00 to 07:59 local', () => {
  const tz = 'Europe/Berlin'
  assert.equal(isQuiet(berlin(20, 59), tz, 21, 8), false)
  assert.equal(isQuiet(berlin(21, 0), tz, 21, 8), true)
  assert.equal(isQuiet(berlin(23, 30), tz, 21, 8), true)
  assert.equal(isQuiet(berlin(3, 0), tz, 21, 8), true)
  assert.equal(isQuiet(berlin(7, 59), tz, 21, 8), true)
  assert.equal(isQuiet(berlin(8, 0), tz, 21, 8), false)
  assert.equal(isQuiet(berlin(12, 0), tz, 21, 8), false)
})

test('a same-day window (13 → 15) covers 13:00–14:59', () => {
  const tz = 'Europe/Berlin'
  assert.equal(isQuiet(berlin(12, 59), tz, 13, 15), false)
  assert.equal(isQuiet(berlin(13, 0), tz, 13, 15), true)
  assert.equal(isQuiet(berlin(14, 59), tz, 13, 15), true)
  assert.equal(isQuiet(berlin(15, 0), tz, 13, 15), false)
})

test('the hour is taken in the given zone', () => {
  const noonUtc = Date.UTC(2026, 5, 15, 12, 0)
  assert.equal(isQuiet(noonUtc, 'UTC', 21, 8), false)
  assert.equal(isQuiet(noonUtc, 'Asia/Tokyo', 21, 8), true, '21:00 in Tokyo')
  assert.equal(isQuiet(noonUtc, 'America/Los_Angeles', 21, 8), true, '05:00 in Los Angeles')
})

test('start == end means no quiet window; missing or out-of-range bounds too', () => {
  for (let h = 0; h < 24; h++) assert.equal(isQuiet(berlin(h), 'Europe/Berlin', 5, 5), false)
  assert.equal(isQuiet(berlin(23), 'Europe/Berlin', null, 8), false)
  assert.equal(isQuiet(berlin(23), 'Europe/Berlin', 21, undefined), false)
  assert.equal(isQuiet(berlin(23), 'Europe/Berlin', 21, 24), false)
  assert.equal(isQuiet(berlin(23), 'Europe/Berlin', 21.5, 8), false)
})

test("a job's window wins; each missing bound falls back to the cron-wide one; nothing set means no window", () => {
  const cron = { quiet_start: 21, quiet_end: 8 }
  assert.deepEqual(resolveQuietWindow({ quiet_start: 22, quiet_end: 6 }, cron), { start: 22, end: 6, source: 'task' })
  assert.deepEqual(resolveQuietWindow({}, cron), { start: 21, end: 8, source: 'cron' })
  assert.deepEqual(resolveQuietWindow({ quiet_start: null, quiet_end: null }, cron), { start: 21, end: 8, source: 'cron' })
  assert.deepEqual(resolveQuietWindow({ quiet_start: 23 }, cron), { start: 23, end: 8, source: 'cron' })
  assert.equal(resolveQuietWindow({ quiet_start: 0, quiet_end: 0 }, cron), null, 'a job can switch quiet hours off for itself')
  assert.equal(resolveQuietWindow({}, { quiet_start: null, quiet_end: null }), null, 'by default a job runs at any hour')
  assert.equal(resolveQuietWindow({ quiet_start: 22 }, { quiet_start: null, quiet_end: null }), null, 'half a window is none')
  assert.equal(resolveQuietWindow({}, undefined), null)
})

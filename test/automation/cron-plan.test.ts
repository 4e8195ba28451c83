import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { nextRun, nextRuns, resolveTimezone, defaultTimezone, dueJobs, scheduleProblem, toPlanEntries, type PlanEntry } from '../../src/automation/cron-plan.ts'
import { hostTimezone } from '../../src/tz.ts'

const BERLIN = 'Europe/Berlin'
const NEW_YORK = 'America/New_York'

/** Local wall time of an instant as "YYYY-MM-DD HH:MM", computed independently of the code under test. */
const formats = new Map<string, Intl.DateTimeFormat>()
function local (instant: number, tz: string): string {
  let fmt = formats.get(tz)
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, dateStyle: 'short', timeStyle: 'short' })
    formats.set(tz, fmt)
  }
  return fmt.format(instant)
}

function runs (schedule: string, tz: string, after: string, n: number): string[] {
  return nextRuns(schedule, tz, Date.parse(after), n).map((at) => `${local(at, tz)} (${new Date(at).toISOString().slice(0, 16)}Z)`)
}

describe('DST in Europe/Berlin (2026: 29 Mar spring forward, 25 Oct fall back)', () => {
  test('a daily 02:30 job runs right after the gap on the spring-forward day (02:30 does not exist)', () => {
    assert.deepEqual(runs('30 2 * * *', BERLIN, '2026-03-27T12:00:00Z', 5), [
      '2026-03-28 02:30 (2026-03-28T01:30Z)',
      '2026-03-29 03:00 (2026-03-29T01:00Z)',
      '2026-03-30 02:30 (2026-03-30T00:30Z)',
      '2026-03-31 02:30 (2026-03-31T00:30Z)',
      '2026-04-01 02:30 (2026-04-01T00:30Z)'
    ])
  })

  test('a daily 02:30 job runs once on the fall-back day (02:30 happens twice)', () => {
    assert.deepEqual(runs('30 2 * * *', BERLIN, '2026-10-23T12:00:00Z', 3), [
      '2026-10-24 02:30 (2026-10-24T00:30Z)',
      '2026-10-25 02:30 (2026-10-25T00:30Z)',
      '2026-10-26 02:30 (2026-10-26T01:30Z)'
    ])
  })

  test('an hourly job skips the missing hour in spring', () => {
    assert.deepEqual(runs('0 * * * *', BERLIN, '2026-03-28T23:30:00Z', 4), [
      '2026-03-29 01:00 (2026-03-29T00:00Z)',
      '2026-03-29 03:00 (2026-03-29T01:00Z)',
      '2026-03-29 04:00 (2026-03-29T02:00Z)',
      '2026-03-29 05:00 (2026-03-29T03:00Z)'
    ])
  })

  test('an hourly job keeps running hourly through the repeated hour in autumn (real elapsed time, no two-hour gap)', () => {
    assert.deepEqual(runs('0 * * * *', BERLIN, '2026-10-24T23:30:00Z', 4), [
      '2026-10-25 02:00 (2026-10-25T00:00Z)',
      '2026-10-25 02:00 (2026-10-25T01:00Z)',
      '2026-10-25 03:00 (2026-10-25T02:00Z)',
      '2026-10-25 04:00 (2026-10-25T03:00Z)'
    ])
  })

  test('an interval job runs every 15 minutes of real time through both passes of the repeated hour', () => {
    // 01:20Z is 02:20 CET, the second 02:20 of the night: 02:30 and 02:45 come again.
    assert.deepEqual(runs('*/15 * * * *', BERLIN, '2026-10-25T01:20:00Z', 3), [
      '2026-10-25 02:30 (2026-10-25T01:30Z)',
      '2026-10-25 02:45 (2026-10-25T01:45Z)',
      '2026-10-25 03:00 (2026-10-25T02:00Z)'
    ])
    // Asked from the end of the first pass (02:50 CEST), the second pass follows.
    assert.deepEqual(runs('*/15 * * * *', BERLIN, '2026-10-25T00:50:00Z', 2), [
      '2026-10-25 02:00 (2026-10-25T01:00Z)',
      '2026-10-25 02:15 (2026-10-25T01:15Z)'
    ])
  })
})

describe('DST in America/New_York (2026: 8 Mar spring forward, 1 Nov fall back)', () => {
  test('a daily 02:30 job runs at 03:00 on 8 March, right after the gap', () => {
    assert.deepEqual(runs('30 2 * * *', NEW_YORK, '2026-03-06T12:00:00Z', 4), [
      '2026-03-07 02:30 (2026-03-07T07:30Z)',
      '2026-03-08 03:00 (2026-03-08T07:00Z)',
      '2026-03-09 02:30 (2026-03-09T06:30Z)',
      '2026-03-10 02:30 (2026-03-10T06:30Z)'
    ])
  })

  test('on 1 November 02:30 exists once (after the fall back) and runs once', () => {
    assert.deepEqual(runs('30 2 * * *', NEW_YORK, '2026-10-31T12:00:00Z', 2), [
      '2026-11-01 02:30 (2026-11-01T07:30Z)',
      '2026-11-02 02:30 (2026-11-02T07:30Z)'
    ])
  })

  test('a daily 01:30 job runs once on 1 November, at the first 01:30 (EDT)', () => {
    assert.deepEqual(runs('30 1 * * *', NEW_YORK, '2026-10-31T12:00:00Z', 2), [
      '2026-11-01 01:30 (2026-11-01T05:30Z)',
      '2026-11-02 01:30 (2026-11-02T06:30Z)'
    ])
  })

  test('hourly jobs: the missing 02:00 in March is skipped, the repeated 01:00 in November runs in both passes', () => {
    assert.deepEqual(runs('0 * * * *', NEW_YORK, '2026-03-08T05:30:00Z', 3), [
      '2026-03-08 01:00 (2026-03-08T06:00Z)',
      '2026-03-08 03:00 (2026-03-08T07:00Z)',
      '2026-03-08 04:00 (2026-03-08T08:00Z)'
    ])
    assert.deepEqual(runs('0 * * * *', NEW_YORK, '2026-11-01T04:30:00Z', 3), [
      '2026-11-01 01:00 (2026-11-01T05:00Z)',
      '2026-11-01 01:00 (2026-11-01T06:00Z)',
      '2026-11-01 02:00 (2026-11-01T07:00Z)'
    ])
  })
})

// A small independent cron matcher for the reference check: numbers, *, step, a-b, lists.
function fieldMatches (field: string, value: number): boolean {
  return field.split(',').some((part) => {
    const [range = '*', stepText] = part.split('/')
    const step = stepText === undefined ? 1 : Number(stepText)
    let lo: number
    let hi: number
    if (range === '*') { lo = 0; hi = 59 } else if (range.includes('-')) { [lo, hi] = range.split('-').map(Number) as [number, number] } else { lo = Number(range); hi = stepText === undefined ? lo : 59 }
    return value >= lo && value <= hi && (value - lo) % step === 0
  })
}

/**
 * Classic cron, minute by minute on the real clock, as ISC cron's DST rules describe it: a "wildcard"
 * job (minute or hour field starting with `*`) runs whenever the local time matches, so in both passes
 * of a repeated hour and never at a local time that does not exist; a fixed-time job runs at the first
 * pass only, and when the clock jumps forward over its time, at the first minute after the jump.
 */
function referenceRuns (schedule: string, tz: string, from: number, to: number): number[] {
  const [mi = '', h = '', dom = '', mon = '', dow = ''] = schedule.split(' ')
  const wildcard = mi.startsWith('*') || h.startsWith('*')
  const matches = (wall: string): boolean => {
    const d = new Date(`${wall}:00Z`)
    return fieldMatches(mi, d.getUTCMinutes()) && fieldMatches(h, d.getUTCHours()) && fieldMatches(dom, d.getUTCDate()) &&
      fieldMatches(mon, d.getUTCMonth() + 1) && fieldMatches(dow, d.getUTCDay())
  }
  const seen = new Set<string>()
  const out: number[] = []
  let previous = local(from - 60_000, tz)
  for (let t = from; t <= to; t += 60_000) {
    const wall = local(t, tz)
    const repeated = seen.has(wall)
    seen.add(wall)
    let run = matches(wall) && (wildcard || !repeated)
    if (!wildcard) {
      // Local minutes the clock jumped over (a spring-forward gap): a fixed-time job due in them runs now.
      for (let skipped = Date.parse(`${previous}:00Z`) + 60_000; skipped < Date.parse(`${wall}:00Z`); skipped += 60_000) {
        if (matches(new Date(skipped).toISOString().slice(0, 16).replace('T', ' '))) run = true
      }
    }
    if (run) out.push(t)
    previous = wall
  }
  return out
}

test('matches a minute-by-minute reference across the 2026 transitions (Berlin, New York, Lord Howe)', () => {
  const windows: Array<[string, string]> = [
    [BERLIN, '2026-03-28T18:00:00Z'], [BERLIN, '2026-10-24T18:00:00Z'],
    [NEW_YORK, '2026-03-07T22:00:00Z'], [NEW_YORK, '2026-10-31T22:00:00Z'],
    // Lord Howe Island shifts by 30 minutes: 02:00 → 01:30 on 5 April, 02:00 → 02:30 on 4 October.
    ['Australia/Lord_Howe', '2026-04-04T09:00:00Z'], ['Australia/Lord_Howe', '2026-10-03T09:30:00Z']
  ]
  const schedules = ['30 2 * * *', '0 * * * *', '*/15 * * * *', '45 1,2,3 * * *', '0 2 * * 0', '5 0-4/2 * * *', '*/20 2 * * *', '15,45 2 * * *', '0 */2 * * *']
  for (const [tz, startIso] of windows) {
    const from = Date.parse(startIso)
    const to = from + 14 * 3_600_000
    for (const schedule of schedules) {
      const expected = referenceRuns(schedule, tz, from + 60_000, to)
      const actual: number[] = []
      let cursor = from
      for (;;) {
        const at = nextRun(schedule, tz, cursor)
        if (at === null || at > to) break
        actual.push(at)
        cursor = at
      }
      assert.deepEqual(actual.map((t) => local(t, tz)), expected.map((t) => local(t, tz)), `${schedule} in ${tz} from ${startIso}`)
      assert.deepEqual(actual, expected)
    }
  }
})

test('nextRun is strictly after `after`, to the millisecond', () => {
  const at = Date.parse('2026-05-01T09:00:00Z')
  assert.equal(nextRun('0 9 * * *', 'UTC', at - 1), at)
  assert.equal(nextRun('0 9 * * *', 'UTC', at), Date.parse('2026-05-02T09:00:00Z'))
  assert.equal(nextRun('0 9 * * *', 'UTC', at - 0.5 * 60_000), at)
})

test('schedules are evaluated in the given zone', () => {
  const after = Date.parse('2026-05-31T20:00:00Z')
  assert.equal(new Date(nextRun('0 9 * * *', 'Asia/Tokyo', after)!).toISOString(), '2026-06-01T00:00:00.000Z')
  assert.equal(new Date(nextRun('0 9 * * *', NEW_YORK, after)!).toISOString(), '2026-06-01T13:00:00.000Z')
  assert.equal(new Date(nextRun('@daily', BERLIN, after)!).toISOString(), '2026-05-31T22:00:00.000Z')
})

test('nextRuns gives the next five distinct runs in order', () => {
  const list = nextRuns('0 9 * * 1-5', BERLIN, Date.parse('2026-05-01T10:00:00Z'), 5)
  assert.deepEqual(list.map((t) => local(t, BERLIN)), [
    '2026-05-04 09:00', '2026-05-05 09:00', '2026-05-06 09:00', '2026-05-07 09:00', '2026-05-08 09:00'
  ])
})

test('a schedule that can never fire again gives no runs, a rare one gives far dates', () => {
  assert.deepEqual(nextRuns('0 0 29 2 *', 'UTC', Date.parse('2026-01-01T00:00:00Z'), 2).map((t) => new Date(t).toISOString().slice(0, 10)), ['2028-02-29', '2032-02-29'])
})

test('scheduleProblem accepts 5-field expressions and the classic nicknames only', () => {
  for (const ok of ['0 9 * * *', '*/15 * * * *', '0 9 * * 1-5', '30 8,12,18 * * *', '0 0 1 * *', '@daily', '@hourly', '0 9 * * 7']) {
    assert.equal(scheduleProblem(ok), null, ok)
  }
  for (const bad of ['', '   ', '* * * *', '0 0 9 * * *', '61 * * * *', 'a b c d e', '0 0 30 2 *', '*/0 * * * *', '@secondly', '@reboot', 42]) {
    assert.match(scheduleProblem(bad) ?? '', /schedule/, String(bad))
  }
  assert.throws(() => nextRun('0 0 9 * * *', 'UTC', 0), { code: 'bad_request' })
})

test('resolveTimezone takes the first valid zone: job → user_timezone → $TZ → host → UTC', () => {
  assert.equal(resolveTimezone('Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'), 'Europe/Berlin')
  assert.equal(resolveTimezone('', 'America/New_York', 'Asia/Tokyo'), 'America/New_York')
  assert.equal(resolveTimezone('Mars/Olympus', undefined, 'Asia/Tokyo'), 'Asia/Tokyo')
  assert.equal(resolveTimezone(null, 'not a zone', ':/etc/localtime', 'Europe/Paris'), 'Europe/Paris')
  assert.equal(resolveTimezone('', ' ', 'Nowhere/Land'), 'UTC')
  assert.equal(resolveTimezone(), 'UTC')
})

test('defaultTimezone: user_timezone, else $TZ, else the host zone', () => {
  assert.equal(defaultTimezone('Europe/Berlin', 'Asia/Tokyo'), 'Europe/Berlin')
  assert.equal(defaultTimezone('', 'Asia/Tokyo'), 'Asia/Tokyo')
  assert.equal(defaultTimezone('Not/AZone', ':/etc/localtime'), hostTimezone())
})

test('toPlanEntries drops disabled jobs and jobs with an unknown zone (never silently the user\'s), and falls back for missing zones', () => {
  const entries = toPlanEntries([
    { id: 'a', schedule: '0 9 * * *', timezone: 'Asia/Tokyo', enabled: true },
    { id: 'b', schedule: '0 9 * * *', timezone: '', enabled: true },
    { id: 'c', schedule: '0 9 * * *', timezone: 'Bogus/Zone' },
    { id: 'd', schedule: '0 9 * * *', timezone: 'Asia/Tokyo', enabled: false }
  ], BERLIN)
  assert.deepEqual(entries, [
    { id: 'a', schedule: '0 9 * * *', timezone: 'Asia/Tokyo' },
    { id: 'b', schedule: '0 9 * * *', timezone: BERLIN }
  ])
})

test('dueJobs picks the jobs with a run in (lastTick, now]', () => {
  const jobs: PlanEntry[] = [
    { id: 'nine', schedule: '0 9 * * *', timezone: 'UTC' },
    { id: 'quarter', schedule: '*/15 * * * *', timezone: 'UTC' },
    { id: 'berlin-nine', schedule: '0 9 * * *', timezone: BERLIN },
    { id: 'broken', schedule: 'nope', timezone: 'UTC' }
  ]
  const nine = Date.parse('2026-05-01T09:00:00Z')
  assert.deepEqual(dueJobs(jobs, nine - 30_000, nine).map((j) => j.id), ['nine', 'quarter'])
  assert.deepEqual(dueJobs(jobs, nine, nine + 30_000).map((j) => j.id), [], 'lastTick itself is excluded')
  assert.deepEqual(dueJobs(jobs, Date.parse('2026-05-01T06:59:30Z'), Date.parse('2026-05-01T07:00:00Z')).map((j) => j.id), ['quarter', 'berlin-nine'])
})

test('away from DST changes, the next runs are those of cron-parser with the zone given (a reference implementation)', async () => {
  const { CronExpressionParser } = await import('cron-parser')
  const schedules = ['30 2 * * *', '*/15 * * * *', '0 9 * * 1-5', '5 0-4/2 * * *', '0 0 1 * *', '45 23 * * 0']
  const cases: Array<[string, string]> = [['Asia/Tokyo', '2026-01-10T03:17:00Z'], [BERLIN, '2026-06-15T12:00:30Z'], [NEW_YORK, '2026-07-01T00:00:00Z'], ['UTC', '2026-02-27T23:59:59Z']]
  for (const [tz, startIso] of cases) {
    for (const schedule of schedules) {
      const expr = CronExpressionParser.parse(schedule, { tz, currentDate: new Date(startIso) })
      const expected = Array.from({ length: 8 }, () => expr.next().getTime())
      assert.deepEqual(nextRuns(schedule, tz, Date.parse(startIso), 8), expected, `${schedule} in ${tz} from ${startIso}`)
    }
  }
})

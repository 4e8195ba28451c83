import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { checkFreshness, normalizeEntry, normalizeSessions } from '../../src/core/sessions.ts'
import type { SessionEntry, SessionRules } from '../../src/core/sessions.ts'
import { lastDailyBoundary } from '../../src/tz.ts'

const rules: SessionRules = { idle_timeout_minutes: 1440, max_session_messages: null, daily_reset_enabled: false, daily_reset_hour: 4, timezone: 'UTC' }
const at = (iso: string): number => Date.parse(iso)

function entry (lastActive: string, extra: Partial<SessionEntry> = {}): SessionEntry {
  return {
    chat_id: 1,
    provider: 'claude',
    model: 'opus',
    created_at: lastActive,
    last_active: lastActive,
    provider_sessions: { claude: { session_id: 's-1', message_count: 3, total_cost_usd: 0.1, total_tokens: 100 } },
    ...extra
  }
}

test('idle: stale once idle_timeout_minutes have passed; 0 means never', () => {
  const e = entry('2025-03-01T10:00:00.000Z')
  const r = { ...rules, idle_timeout_minutes: 60 }
  assert.deepEqual(checkFreshness(e, 'claude', r, at('2025-03-01T10:59:59.999Z')), { fresh: true })
  assert.deepEqual(checkFreshness(e, 'claude', r, at('2025-03-01T11:00:00.000Z')), { fresh: false, reason: 'idle' })
  assert.deepEqual(checkFreshness(e, 'claude', { ...r, idle_timeout_minutes: 0 }, at('2026-03-01T00:00:00Z')), { fresh: true })
  assert.deepEqual(checkFreshness(entry('garbage'), 'claude', rules, at('2025-03-01T10:00:00Z')), { fresh: false, reason: 'idle' }, 'an unreadable timestamp is stale')
})

test('message limit: counted per provider bucket; null means never', () => {
  const e = entry('2025-03-01T10:00:00.000Z')
  const now = at('2025-03-01T10:01:00Z')
  assert.deepEqual(checkFreshness(e, 'claude', { ...rules, max_session_messages: 4 }, now), { fresh: true })
  assert.deepEqual(checkFreshness(e, 'claude', { ...rules, max_session_messages: 3 }, now), { fresh: false, reason: 'max_messages' })
  assert.deepEqual(checkFreshness(e, 'codex', { ...rules, max_session_messages: 3 }, now), { fresh: true }, 'the other bucket is its own')
  assert.deepEqual(checkFreshness(e, 'claude', rules, now), { fresh: true })
})

test('daily reset: a session begun before the latest boundary is stale after it', () => {
  const r = { ...rules, daily_reset_enabled: true, daily_reset_hour: 4, timezone: 'Europe/Berlin' }
  // Berlin is UTC+1 in winter: 04:00 local = 03:00Z.
  const e = entry('2025-02-10T02:30:00.000Z', { created_at: '2025-02-09T20:00:00.000Z' })
  assert.deepEqual(checkFreshness(e, 'claude', r, at('2025-02-10T02:59:59Z')), { fresh: true })
  assert.deepEqual(checkFreshness(e, 'claude', r, at('2025-02-10T03:00:00Z')), { fresh: false, reason: 'daily_reset' })
  // Created before the boundary, touched after it (e.g. a model switch): still the old conversation.
  const touched = entry('2025-02-10T03:10:00.000Z', { created_at: '2025-02-10T02:00:00.000Z' })
  assert.deepEqual(checkFreshness(touched, 'claude', r, at('2025-02-10T03:20:00Z')), { fresh: false, reason: 'daily_reset' })
  // Begun after today's boundary: fresh until tomorrow's.
  const today = entry('2025-02-10T03:05:00.000Z')
  assert.deepEqual(checkFreshness(today, 'claude', r, at('2025-02-11T02:59:00Z')), { fresh: true })
  assert.deepEqual(checkFreshness(today, 'claude', r, at('2025-02-11T03:00:00Z')), { fresh: false, reason: 'daily_reset' })
  assert.deepEqual(checkFreshness(e, 'claude', { ...r, daily_reset_enabled: false }, at('2025-02-10T05:00:00Z')), { fresh: true })
})

test('daily reset on DST days: a skipped hour resets at the jump, a repeated hour resets once', () => {
  const ny = { ...rules, idle_timeout_minutes: 0, daily_reset_enabled: true, daily_reset_hour: 2, timezone: 'America/New_York' }
  // 2024-03-10: 02:00 EST does not exist, clocks jump to 03:00 EDT at 07:00Z.
  assert.equal(lastDailyBoundary(at('2024-03-10T07:30:00Z'), 2, 'America/New_York'), at('2024-03-10T07:00:00Z'))
  assert.deepEqual(checkFreshness(entry('2024-03-10T06:59:00.000Z'), 'claude', ny, at('2024-03-10T07:30:00Z')), { fresh: false, reason: 'daily_reset' })
  assert.deepEqual(checkFreshness(entry('2024-03-10T07:00:01.000Z'), 'claude', ny, at('2024-03-10T07:30:00Z')), { fresh: true })
  // The day before and after: 02:00 EST = 07:00Z, 02:00 EDT = 06:00Z.
  assert.equal(lastDailyBoundary(at('2024-03-09T12:00:00Z'), 2, 'America/New_York'), at('2024-03-09T07:00:00Z'))
  assert.equal(lastDailyBoundary(at('2024-03-11T12:00:00Z'), 2, 'America/New_York'), at('2024-03-11T06:00:00Z'))

  // 2024-11-03: 01:00–02:00 happens twice (EDT at 05:00Z, EST at 06:00Z). The boundary is the first.
  const fall = { ...ny, daily_reset_hour: 1 }
  assert.equal(lastDailyBoundary(at('2024-11-03T06:30:00Z'), 1, 'America/New_York'), at('2024-11-03T05:00:00Z'))
  assert.deepEqual(checkFreshness(entry('2024-11-03T05:30:00.000Z'), 'claude', fall, at('2024-11-03T06:30:00Z')), { fresh: true }, 'the repeated hour is not a second reset')
  assert.deepEqual(checkFreshness(entry('2024-11-03T04:59:00.000Z'), 'claude', fall, at('2024-11-03T05:00:00Z')), { fresh: false, reason: 'daily_reset' })
})

test('an unknown time zone falls back to UTC', () => {
  const r = { ...rules, daily_reset_enabled: true, daily_reset_hour: 4, timezone: 'Mars/Olympus' }
  assert.deepEqual(checkFreshness(entry('2025-02-10T03:59:00.000Z'), 'claude', r, at('2025-02-10T04:00:00Z')), { fresh: false, reason: 'daily_reset' })
})

test('property: one daily boundary per local day, at the reset hour or the DST jump over it', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham']
  const hourOf = (t: number, zone: string): number => Number(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', hour: 'numeric' }).format(t))
  fc.assert(fc.property(
    fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2030-12-31T00:00:00Z') }),
    fc.integer({ min: 0, max: 23 }),
    fc.constantFrom(...zones),
    (now, hour, zone) => {
      const b = lastDailyBoundary(now, hour, zone)
      assert.ok(b <= now)
      assert.ok(now - b < 25 * 3600_000, 'no more than a (long) day back')
      assert.equal(lastDailyBoundary(b, hour, zone), b, 'the boundary is its own latest boundary')
      assert.ok(lastDailyBoundary(b - 1, hour, zone) < b)
      const local = hourOf(b, zone)
      if (local !== hour) assert.notEqual(hourOf(b - 1, zone), local, 'only a DST jump moves the boundary off the hour')
    }
  ), { numRuns: 300 })
})

test('migration: an old flat entry moves into the bucket of its provider; unknown fields are kept, a reasoning_effort the Python 0.4 loader refuses is not', () => {
  const { entry: e, migrated } = normalizeEntry('123', {
    chat_id: 123,
    provider: 'codex',
    model: 'gpt-5',
    session_id: 'thread-9',
    message_count: '7',
    total_cost_usd: 1.25,
    total_tokens: 9000,
    created_at: '2025-01-01T00:00:00+00:00',
    last_active: '2025-01-02T00:00:00+00:00',
    reasoning_effort: 'high',
    topic_id: null
  }, '2025-06-01T00:00:00.000Z')
  assert.equal(migrated, true)
  assert.deepEqual(e, {
    chat_id: 123,
    provider: 'codex',
    model: 'gpt-5',
    created_at: '2025-01-01T00:00:00+00:00',
    last_active: '2025-01-02T00:00:00+00:00',
    topic_id: null,
    provider_sessions: { codex: { session_id: 'thread-9', message_count: 7, total_cost_usd: 1.25, total_tokens: 9000 } }
  })
})

test('migration: defaults as in the Python ductor; buckets win over stray flat fields', () => {
  const flat = normalizeEntry('-100200', { session_id: 'abc' }, '2025-06-01T00:00:00.000Z').entry
  assert.equal(flat.chat_id, -100200)
  assert.equal(flat.provider, 'claude')
  assert.equal(flat.model, 'opus')
  assert.equal(flat.created_at, '2025-06-01T00:00:00.000Z')
  assert.deepEqual(flat.provider_sessions, { claude: { session_id: 'abc', message_count: 0, total_cost_usd: 0, total_tokens: 0 } })

  const both = normalizeEntry('5', {
    provider: 'claude',
    session_id: 'stale-flat',
    provider_sessions: { claude: { session_id: 'real', message_count: 2, total_cost_usd: 0, total_tokens: 5, future_field: 1 }, broken: 'x' }
  }, '2025-06-01T00:00:00.000Z')
  assert.equal(both.migrated, true)
  assert.equal(both.entry.session_id, undefined)
  assert.deepEqual(both.entry.provider_sessions, { claude: { session_id: 'real', message_count: 2, total_cost_usd: 0, total_tokens: 5, future_field: 1 } })

  const current = normalizeEntry('5', { provider_sessions: {} }, '2025-06-01T00:00:00.000Z')
  assert.equal(current.migrated, false)
})

test('a whole file: entries that are not objects are dropped and counted', () => {
  const { sessions, migrated, dropped } = normalizeSessions({ 1: { session_id: 'a' }, 2: 'nonsense', 'tg:3': { provider_sessions: {} } }, '2025-06-01T00:00:00.000Z')
  assert.deepEqual([...sessions.keys()], ['1', 'tg:3'])
  assert.equal(sessions.get('tg:3')?.chat_id, 'tg:3')
  assert.equal(migrated, 1)
  assert.equal(dropped, 1)
})

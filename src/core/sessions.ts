import { Type } from '../schema-type.ts'
import type { Static } from 'typebox'
import { lastDailyBoundary, isValidTimezone } from '../tz.ts'
import type { ProviderName } from '../models.ts'

/**
 * Sessions (SPEC §6): the shape of `sessions.json`, migration of entries written by the Python
 * ductor, and the freshness rules as pure functions of an entry, the rules and `now`.
 */

const ProviderSessionSchema = Type.Object({
  session_id: Type.String({ description: 'CLI session/thread id; "" when none yet' }),
  message_count: Type.Integer(),
  total_cost_usd: Type.Number(),
  total_tokens: Type.Integer()
}, { additionalProperties: true })

export const SessionEntrySchema = Type.Object({
  chat_id: Type.Union([Type.Integer(), Type.String()]),
  provider: Type.String({ description: 'the active provider' }),
  model: Type.String({ description: 'the active model' }),
  created_at: Type.String(),
  last_active: Type.String(),
  provider_sessions: Type.Record(Type.String(), ProviderSessionSchema)
}, { additionalProperties: true })

/**
 * Fields this edition does not know (e.g. `transport`, `topic_id` from newer Python files) are kept,
 * but ductor never adds one: the Python 0.4 loader refuses an entry with a key it does not know
 * (`chat_id`, `provider`, `model`, `created_at`, `last_active`, `provider_sessions`), so ductor's own
 * per-chat extras live in files of its own under state/.
 */
export type ProviderSession = Static<typeof ProviderSessionSchema> & { [extra: string]: unknown }
export type SessionEntry = Omit<Static<typeof SessionEntrySchema>, 'provider_sessions'> & {
  provider_sessions: Record<string, ProviderSession>
  [extra: string]: unknown
}

/** The config keys that decide freshness, plus the resolved IANA zone (`user_timezone` → $TZ → host → UTC). */
export interface SessionRules {
  /** 0 = never. */
  idle_timeout_minutes: number
  /** null = never. */
  max_session_messages: number | null
  daily_reset_enabled: boolean
  daily_reset_hour: number
  timezone: string
}

export type StaleReason = 'idle' | 'daily_reset' | 'max_messages'
export type Freshness = { fresh: true } | { fresh: false, reason: StaleReason }

/**
 * Whether the next message to `provider` may resume its session. Time rules (idle, daily reset)
 * concern the whole chat; the message limit concerns the provider's own bucket. A timestamp that
 * cannot be read counts as stale.
 */
export function checkFreshness (entry: SessionEntry, provider: ProviderName, rules: SessionRules, now: number): Freshness {
  const lastActive = Date.parse(entry.last_active)
  if (Number.isNaN(lastActive)) return { fresh: false, reason: 'idle' }
  if (rules.idle_timeout_minutes > 0 && now - lastActive >= rules.idle_timeout_minutes * 60_000) {
    return { fresh: false, reason: 'idle' }
  }
  if (rules.daily_reset_enabled) {
    const zone = isValidTimezone(rules.timezone) ? rules.timezone : 'UTC'
    const boundary = lastDailyBoundary(now, rules.daily_reset_hour, zone)
    const created = Date.parse(entry.created_at)
    // Begun before the latest boundary (by its creation or its last use) means it crossed it.
    const begun = Number.isNaN(created) ? lastActive : Math.min(created, lastActive)
    if (begun < boundary) return { fresh: false, reason: 'daily_reset' }
  }
  const max = rules.max_session_messages
  if (max !== null && (entry.provider_sessions[provider]?.message_count ?? 0) >= max) {
    return { fresh: false, reason: 'max_messages' }
  }
  return { fresh: true }
}

export function emptyProviderSession (): ProviderSession {
  return { session_id: '', message_count: 0, total_cost_usd: 0, total_tokens: 0 }
}

/** The flat fields of entries written before provider buckets existed. */
const legacyFlatKeys = ['session_id', 'message_count', 'total_cost_usd', 'total_tokens'] as const

function toInt (v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : 0
}

function toFloat (v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v
  return typeof n === 'number' && Number.isFinite(n) ? n : 0
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function toBucket (raw: Record<string, unknown>): ProviderSession {
  return {
    ...raw,
    session_id: typeof raw.session_id === 'string' ? raw.session_id : raw.session_id == null ? '' : String(raw.session_id),
    message_count: toInt(raw.message_count),
    total_cost_usd: toFloat(raw.total_cost_usd),
    total_tokens: toInt(raw.total_tokens)
  }
}

export function chatIdFromKey (key: string): number | string {
  return /^-?\d+$/.test(key) && Number.isSafeInteger(Number(key)) ? Number(key) : key
}

/**
 * Reads one stored entry into the current shape. Unknown fields are kept; an old flat entry
 * (`session_id`, `message_count`, … at the top) moves into the bucket of its provider.
 */
export function normalizeEntry (key: string, raw: Record<string, unknown>, nowIso: string): { entry: SessionEntry, migrated: boolean } {
  const rest: Record<string, unknown> = { ...raw }
  for (const k of legacyFlatKeys) delete rest[k]
  // Earlier builds of this edition stored a per-chat `reasoning_effort` in entries shaped like the
  // Python 0.4 ones, which refuse it (docs/migration.md). Newer Python versions write it themselves,
  // always together with `transport`: there it is theirs and stays.
  const ours = 'reasoning_effort' in raw && !('transport' in raw)
  if (ours) delete rest['reasoning_effort']
  const provider = typeof raw.provider === 'string' && raw.provider !== '' ? raw.provider : 'claude'
  const lastActive = typeof raw.last_active === 'string' && raw.last_active !== '' ? raw.last_active : nowIso
  const buckets: Record<string, ProviderSession> = {}
  let migrated = false
  if (isObject(raw.provider_sessions)) {
    for (const [name, bucket] of Object.entries(raw.provider_sessions)) if (isObject(bucket)) buckets[name] = toBucket(bucket)
  } else if (legacyFlatKeys.some((k) => raw[k] != null)) {
    buckets[provider] = toBucket(Object.fromEntries(legacyFlatKeys.map((k) => [k, raw[k]])))
    migrated = true
  }
  const entry: SessionEntry = {
    ...rest,
    chat_id: typeof raw.chat_id === 'number' || typeof raw.chat_id === 'string' ? raw.chat_id : chatIdFromKey(key),
    provider,
    model: typeof raw.model === 'string' && raw.model !== '' ? raw.model : 'opus',
    created_at: typeof raw.created_at === 'string' && raw.created_at !== '' ? raw.created_at : lastActive,
    last_active: lastActive,
    provider_sessions: buckets
  }
  return { entry, migrated: migrated || ours || legacyFlatKeys.some((k) => k in raw) }
}

/** Reads a whole `sessions.json` object; entries that are not objects are dropped (and counted). */
export function normalizeSessions (raw: Record<string, unknown>, nowIso: string): { sessions: Map<string, SessionEntry>, migrated: number, dropped: number } {
  const sessions = new Map<string, SessionEntry>()
  let migrated = 0
  let dropped = 0
  for (const [key, value] of Object.entries(raw)) {
    if (!isObject(value)) { dropped++; continue }
    const result = normalizeEntry(key, value, nowIso)
    sessions.set(key, result.entry)
    if (result.migrated) migrated++
  }
  return { sessions, migrated, dropped }
}

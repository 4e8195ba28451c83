import { systemClock } from '../clock.ts'
import type { Clock } from '../clock.ts'
import { DuctorError, ErrorCodes } from '../errors.ts'
import type { Logger } from '../logger-types.ts'
import type { ProviderName } from '../models.ts'
import { loadJsonFile, writeJsonAtomic } from '../atomic-json.ts'
import { checkFreshness, chatIdFromKey, emptyProviderSession, normalizeSessions } from './sessions.ts'
import type { ProviderSession, SessionEntry, SessionRules, StaleReason } from './sessions.ts'

/**
 * `sessions.json` (SPEC §6). The store holds the sessions in memory; every change is applied there
 * at once, synchronously, so counters are increments on the latest state and two racing updates can
 * never undo each other. Writes go through the atomic JSON writer in the background, one at a time
 * and coalesced: a burst of changes costs one or two writes. `flush()` waits for them (shutdown).
 * A failed write is logged and retried with the next change; `flush()` reports it.
 */

export type ChatId = number | string

export interface SessionStoreOptions {
  path: string
  clock?: Clock
  logger?: Logger
  /** Injected writer (tests count writes). Default: atomic JSON write. */
  writeJson?: (path: string, value: unknown) => Promise<void>
}

export interface ResolveResult {
  /** The CLI session to resume, or null to start a new one. */
  sessionId: string | null
  isNew: boolean
  /** Why: resumed, created (first message of the chat), empty (no session for this provider yet), or why the old one went stale. */
  reason: 'resumed' | 'created' | 'empty' | StaleReason
  entry: SessionEntry
}

export interface RunResult {
  /** The session id the CLI reported; absent or empty keeps the one stored. */
  sessionId?: string | null
  costUsd?: number | null
  tokens?: number | null
  /** The model the run used (only needed if the chat's entry was deleted meanwhile). */
  model?: string
}

export interface SessionStore {
  get: (chatId: ChatId) => SessionEntry | undefined
  list: () => SessionEntry[]
  /**
   * Decides whether the next message to `provider` resumes its session, applying the freshness
   * rules: a stale chat (idle, daily reset) loses every bucket, a provider past its message limit
   * loses its own. Creates the chat (with `provider`/`model` as its target) on its first message.
   * Like the Python version, an existing chat's `provider`/`model` follow the target it runs with
   * (the config's default), except for a one-message override (`oneOff`).
   */
  resolveForRun: (chatId: ChatId, provider: ProviderName, model: string, rules: SessionRules, opts?: { oneOff?: boolean }) => ResolveResult
  /** Counts one finished message: increments on the latest state, stores the session id, touches last_active. */
  recordResult: (chatId: ChatId, provider: ProviderName, result: RunResult) => SessionEntry
  /** `/new`: clears only this provider's bucket. True if there was one. */
  resetProvider: (chatId: ChatId, provider: ProviderName) => boolean
  /** Switches the chat's active provider/model; both buckets are kept. */
  setModel: (chatId: ChatId, provider: ProviderName, model: string) => SessionEntry
  /** Deletes the chat's entry, or only one provider's bucket. True if something was deleted. */
  delete: (chatId: ChatId, provider?: string) => boolean
  /** Resolves once every change so far is on disk; rejects if the write fails. */
  flush: () => Promise<void>
}

function isRecord (raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
}

const nonNegative = (n: number | null | undefined): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0)

export async function createSessionStore (opts: SessionStoreOptions): Promise<SessionStore> {
  const { path, logger } = opts
  const clock = opts.clock ?? systemClock
  const writeJson = opts.writeJson ?? writeJsonAtomic
  const nowIso = (): string => new Date(clock.now()).toISOString()

  const loaded = await loadJsonFile<Record<string, unknown>>(path, { empty: () => ({}), accept: isRecord, logger, now: clock.now })
  const { sessions, migrated, dropped } = normalizeSessions(loaded.value, nowIso())
  if (dropped > 0) logger?.warn({ path, dropped }, 'sessions: dropped entries that are not objects')

  let version = 0
  let written = 0
  let writing: Promise<void> | null = null
  let lastError: unknown = null

  function startWriting (): Promise<void> {
    writing ??= (async () => {
      await new Promise((resolve) => setImmediate(resolve)) // let a burst of changes gather
      try {
        while (written < version) {
          const v = version
          await writeJson(path, Object.fromEntries(sessions))
          written = v
          lastError = null
        }
      } catch (err) {
        lastError = err
        logger?.error({ err, path }, 'sessions: write failed; will retry with the next change')
      } finally {
        writing = null
      }
    })()
    return writing
  }

  function changed (): void {
    version++
    startWriting() // never rejects: a failure is logged and kept for flush()
  }

  if (migrated > 0) {
    logger?.info({ path, migrated }, 'sessions: migrated old entries (flat fields into provider buckets, keys the Python version refuses removed)')
    changed()
  }

  const keyOf = (chatId: ChatId): string => String(chatId)
  const snapshot = (entry: SessionEntry): SessionEntry => structuredClone(entry)

  function create (key: string, provider: ProviderName, model: string): SessionEntry {
    const now = nowIso()
    const entry: SessionEntry = { chat_id: chatIdFromKey(key), provider, model, created_at: now, last_active: now, provider_sessions: {} }
    sessions.set(key, entry)
    return entry
  }

  function bucket (entry: SessionEntry, provider: ProviderName): ProviderSession {
    const existing = entry.provider_sessions[provider]
    if (existing !== undefined) return existing
    const fresh = emptyProviderSession()
    entry.provider_sessions[provider] = fresh
    return fresh
  }

  return {
    get (chatId) {
      const entry = sessions.get(keyOf(chatId))
      return entry === undefined ? undefined : snapshot(entry)
    },
    list: () => [...sessions.values()].map(snapshot),
    resolveForRun (chatId, provider, model, rules, opts = {}) {
      const key = keyOf(chatId)
      const existing = sessions.get(key)
      if (existing === undefined) {
        const entry = create(key, provider, model)
        changed()
        return { sessionId: null, isNew: true, reason: 'created', entry: snapshot(entry) }
      }
      if (opts.oneOff !== true && (existing.provider !== provider || existing.model !== model)) {
        existing.provider = provider
        existing.model = model
        changed()
      }
      const freshness = checkFreshness(existing, provider, rules, clock.now())
      if (!freshness.fresh) {
        if (freshness.reason === 'max_messages') {
          delete existing.provider_sessions[provider]
        } else {
          existing.provider_sessions = {}
          existing.created_at = nowIso()
        }
        changed()
        logger?.info({ chatId: key, provider, reason: freshness.reason }, 'session stale; starting a new one')
        return { sessionId: null, isNew: true, reason: freshness.reason, entry: snapshot(existing) }
      }
      const sessionId = existing.provider_sessions[provider]?.session_id ?? ''
      if (sessionId !== '') return { sessionId, isNew: false, reason: 'resumed', entry: snapshot(existing) }
      return { sessionId: null, isNew: true, reason: 'empty', entry: snapshot(existing) }
    },
    recordResult (chatId, provider, result) {
      const key = keyOf(chatId)
      // The entry is only missing when it was deleted while the run was going on.
      const entry = sessions.get(key) ?? create(key, provider, result.model ?? '')
      const b = bucket(entry, provider)
      if (typeof result.sessionId === 'string' && result.sessionId !== '') {
        // A new session (the first, after /new, or after a reset) starts now; kept in its bucket.
        if (b.session_id !== result.sessionId) b['started_at'] = nowIso()
        b.session_id = result.sessionId
      }
      b.message_count += 1
      b.total_cost_usd = Math.round((b.total_cost_usd + nonNegative(result.costUsd)) * 1e6) / 1e6
      b.total_tokens += Math.trunc(nonNegative(result.tokens))
      entry.last_active = nowIso()
      changed()
      return snapshot(entry)
    },
    resetProvider (chatId, provider) {
      const entry = sessions.get(keyOf(chatId))
      if (entry?.provider_sessions[provider] === undefined) return false
      delete entry.provider_sessions[provider]
      changed()
      return true
    },
    setModel (chatId, provider, model) {
      const key = keyOf(chatId)
      const entry = sessions.get(key)
      if (entry === undefined) {
        const created = create(key, provider, model)
        changed()
        return snapshot(created)
      }
      if (entry.provider !== provider || entry.model !== model) {
        entry.provider = provider
        entry.model = model
        changed()
      }
      return snapshot(entry)
    },
    delete (chatId, provider) {
      const key = keyOf(chatId)
      const entry = sessions.get(key)
      if (entry === undefined) return false
      if (provider === undefined) sessions.delete(key)
      else if (entry.provider_sessions[provider] !== undefined) delete entry.provider_sessions[provider]
      else return false
      changed()
      return true
    },
    async flush () {
      if (writing !== null) await writing
      if (written < version) await startWriting()
      if (written < version) {
        throw new DuctorError(ErrorCodes.storage, `could not write ${path}: ${(lastError as Error | null)?.message ?? 'unknown error'}`, { cause: lastError })
      }
    }
  }
}

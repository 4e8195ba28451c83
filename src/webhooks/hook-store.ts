import { DuctorError, ErrorCodes, UserFileError } from '../errors.ts'
import { systemClock, type Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import { writeJsonAtomic } from '../atomic-json.ts'
import { readUserJson } from '../json-location.ts'
import { type Hook, type HookProblem, parseHook } from './hook-schema.ts'
import { type HookCreateInput, type HookPatch, buildNewHook, applyPatch, generateHookToken } from './hook-changes.ts'

export type { HookCreateInput, HookPatch } from './hook-changes.ts'

/** A hook from the file that does not pass the schema: kept in the file as is, never served. */
export interface InvalidHookEntry {
  /** Position in the file's `hooks` array. */
  index: number
  /** Its `id` when it has a string one. */
  id: string | undefined
  problems: HookProblem[]
}

export interface HookStoreLoadSummary {
  status: 'missing' | 'ok' | 'quarantined'
  hooks: number
  invalid: number
}

export interface TriggerOutcome {
  /** When the dispatch happened, ms since the epoch. */
  at: number
  /** A status such as `error:timeout`, or null after a success. */
  error: string | null
}

export interface HookStore {
  /** Reads `webhooks.json` (missing → empty; not JSON → UserFileError, the file untouched). Call once before use. */
  load: () => Promise<HookStoreLoadSummary>
  /** Re-reads the file (after a hand edit); trigger counts never go backwards. */
  reload: () => Promise<HookStoreLoadSummary>
  get: (id: string) => Readonly<Hook> | undefined
  list: () => ReadonlyArray<Readonly<Hook>>
  invalid: () => readonly InvalidHookEntry[]
  create: (input: HookCreateInput) => Promise<Readonly<Hook>>
  update: (id: string, patch: HookPatch) => Promise<Readonly<Hook>>
  delete: (id: string) => Promise<Readonly<Hook>>
  /** New random token for a bearer hook; the old one stops working at once. */
  rotateToken: (id: string) => Promise<Readonly<Hook>>
  /**
   * Counts one dispatch; resolves once the count is on disk, with the hook as written (counts that
   * shared the write are all in it). Undefined when the hook was deleted meanwhile (not an error).
   */
  recordTrigger: (id: string, outcome: TriggerOutcome) => Promise<Readonly<Hook> | undefined>
  /**
   * Counts one dispatch like `recordTrigger`, without handing back the hook: the promise, which
   * resolves once the count is on disk (rejects when that write fails), is shared by every count of
   * the same write. A delivery's handler waits for it up to a second (ADR 0033); one shared promise
   * instead of one per delivery keeps that wait cheap under load (ADR 0041).
   */
  countTrigger: (id: string, outcome: TriggerOutcome) => Promise<void>
  /**
   * At shutdown: trigger counts waiting for their paced write are written now, and every later one
   * at once, so no write is left to a timer that fires after the service has closed.
   */
  flush: () => Promise<void>
}

export interface HookStoreOptions {
  /** Path of `webhooks.json`. */
  path: string
  logger?: Logger
  clock?: Clock
  /** Token generator, for tests; default: 32 random bytes, base64url. */
  generateToken?: () => string
  /** Wraps every write of the file (create-webhooks.ts uses it to tell its own writes from hand edits). */
  guardWrite?: (write: () => Promise<void>) => Promise<void>
  /**
   * True when the file changed on disk since the store last read or wrote it (a hand edit not picked
   * up yet). Every change then re-reads the file first, so it applies on top of the user's edit
   * instead of writing the old hooks back over it.
   */
  handEdited?: () => boolean
  /** Told after such a catch-up read (create-webhooks.ts learns the new hooks' secrets). */
  onHandEditRead?: () => void
  /**
   * Trigger counts are written at most once per this many ms (default 1000): the first at once, the
   * ones that arrive later share the next write (ADR 0033).
   */
  triggerWriteIntervalMs?: number
}

interface SharedWrite { promise: Promise<void>, resolve: () => void, reject: (err: unknown) => void }

type Entry = { valid: true, hook: Readonly<Hook> } | { valid: false, raw: unknown, problems: HookProblem[] }

interface State {
  entries: readonly Entry[]
  byId: ReadonlyMap<string, Readonly<Hook>>
  /** Top-level keys of the file other than `hooks`, kept on write. */
  extra: Readonly<Record<string, unknown>>
}

type FileShape = { hooks?: unknown[], [key: string]: unknown }

const isFileShape = (raw: unknown): raw is FileShape =>
  typeof raw === 'object' && raw !== null && !Array.isArray(raw) &&
  ((raw as FileShape).hooks === undefined || Array.isArray((raw as FileShape).hooks))

/**
 * The hooks of `webhooks.json`, held in memory (lookups by id are a map read) and written back
 * atomically after every change. Changes run one at a time in call order, each starting from the
 * result of the previous one, so two concurrent writes never lose an update; a failed write leaves
 * memory as it was. Hooks handed out are frozen.
 */
export function createHookStore (opts: HookStoreOptions): HookStore {
  const clock = opts.clock ?? systemClock
  const newToken = opts.generateToken ?? generateHookToken
  let state = buildState([], {})
  let tail: Promise<unknown> = Promise.resolve()
  const guardWrite = opts.guardWrite ?? ((write: () => Promise<void>) => write())
  /**
   * Counts waiting for the next write, folded per hook as they arrive (ADR 0048): under load a
   * second's worth of deliveries waits for one write, and an object per delivery held that long was
   * copied by every young-generation GC meanwhile.
   */
  let pendingCounts = new Map<string, { count: number, at: number, error: string | null }>()
  /** The `recordTrigger` callers waiting for the next write (their counts are in `pendingCounts`). */
  let pendingCallers: Array<{ id: string, resolve: (hook: Readonly<Hook> | undefined) => void, reject: (err: unknown) => void }> = []
  /** The `countTrigger` promise of the counts waiting for the next write, made by the first of them. */
  let pendingWrite: SharedWrite | undefined
  const triggerInterval = opts.triggerWriteIntervalMs ?? 1000
  /** When the last trigger write was started (performance.now(), not the injected clock: this is pacing, not a date). */
  let lastTriggerWrite = Number.NEGATIVE_INFINITY
  /** The paced write waiting for its second; `flushing` once the service closes (no more pacing). */
  let paced: NodeJS.Timeout | undefined
  let flushing = false

  function serialized<T> (work: () => Promise<T>): Promise<T> {
    const run = tail.then(work, work)
    tail = run.catch(() => {})
    return run
  }

  /** A change to the file: first catches up with a hand edit, then works from the result. */
  function change<T> (work: () => Promise<T>): Promise<T> {
    return serialized(async () => {
      if (opts.handEdited?.() === true) {
        // A hand edit that does not parse is left to guardWrite, which refuses to write over it.
        await readFile(state).then(() => opts.onHandEditRead?.(), (err: unknown) => { if (!(err instanceof UserFileError)) throw err })
      }
      return await work()
    })
  }

  async function commit (next: State): Promise<void> {
    const hooks = next.entries.map((e) => e.valid ? e.hook : e.raw)
    await guardWrite(() => writeJsonAtomic(opts.path, { ...next.extra, hooks }))
    state = next
  }

  function requireHook (id: string): Readonly<Hook> {
    const hook = state.byId.get(id)
    if (hook === undefined) throw new DuctorError(ErrorCodes.notFound, `no webhook with id "${id}"`)
    return hook
  }

  async function replaceHook (next: Readonly<Hook>): Promise<Readonly<Hook>> {
    const frozen = deepFreeze(next)
    const entries = state.entries.map((e) => e.valid && e.hook.id === frozen.id ? { valid: true as const, hook: frozen } : e)
    await commit(buildState(entries, state.extra))
    return frozen
  }

  async function readFile (previous: State | undefined): Promise<HookStoreLoadSummary> {
    // webhooks.json is the user's file: one that does not parse is never moved aside or replaced.
    // At start that stops the service (exit 2, file/line/column); on a reload the hooks in force stay.
    const then = previous === undefined ? 'ductor left it as it is; fix it and start ductor again' : 'the hooks in force stay until it is fixed'
    const read = await readUserJson(opts.path, then)
    const value = read.status === 'missing' ? { hooks: [] } : read.value
    if (!isFileShape(value)) throw new UserFileError(opts.path, `${opts.path}: expected an object { "hooks": [ … ] }; ${then}`)
    const result = { status: read.status, value }
    const { hooks: rawHooks = [], ...extra } = result.value
    const seen = new Set<string>()
    const entries = rawHooks.map((raw): Entry => {
      const parsed = parseHook(raw)
      if (!parsed.ok) return { valid: false, raw, problems: parsed.problems }
      if (seen.has(parsed.hook.id)) return { valid: false, raw, problems: [{ path: '/id', message: 'duplicates an earlier hook' }] }
      seen.add(parsed.hook.id)
      return { valid: true, hook: deepFreeze(keepCounters(parsed.hook, previous?.byId.get(parsed.hook.id))) }
    })
    state = buildState(entries, extra)
    const invalid = invalidEntries(entries)
    for (const entry of invalid) {
      opts.logger?.warn({ path: opts.path, index: entry.index, hookId: entry.id, problems: entry.problems },
        'webhook entry is invalid: kept in the file but not served')
    }
    return { status: result.status, hooks: state.byId.size, invalid: invalid.length }
  }

  const store: HookStore = {
    load: () => serialized(() => readFile(undefined)),
    reload: () => serialized(() => readFile(state)),
    get: (id) => state.byId.get(id),
    list: () => [...state.byId.values()],
    invalid: () => invalidEntries(state.entries),

    create: (input) => change(async () => {
      const taken = (id: string) => state.entries.some((e) => e.valid ? e.hook.id === id : rawId(e.raw) === id)
      const hook = deepFreeze(buildNewHook(input, { now: clock.now(), newToken, taken }))
      await commit(buildState([...state.entries, { valid: true, hook }], state.extra))
      return hook
    }),

    update: (id, patch) => change(async () => replaceHook(applyPatch(requireHook(id), patch))),

    delete: (id) => change(async () => {
      const hook = requireHook(id)
      await commit(buildState(state.entries.filter((e) => !(e.valid && e.hook.id === id)), state.extra))
      return hook
    }),

    rotateToken: (id) => change(async () => {
      const hook = requireHook(id)
      if (hook.auth_mode !== 'bearer') {
        throw new DuctorError(ErrorCodes.badRequest,
          `webhook "${id}" uses auth_mode "${hook.auth_mode}": only bearer hooks have a token to rotate; to change its signing secret, set a new one at the sender and here with PATCH /api/webhooks/${id} {"hmac_secret": "<new secret>"}`)
      }
      return replaceHook({ ...hook, token: newToken() })
    }),

    recordTrigger: (id, outcome) => new Promise((resolve, reject) => {
      pendingCallers.push({ id, resolve, reject })
      queueTrigger(id, outcome)
    }),

    countTrigger (id, outcome) {
      if (pendingWrite === undefined) {
        const write: Partial<SharedWrite> = {}
        write.promise = new Promise<void>((resolve, reject) => { write.resolve = resolve; write.reject = reject })
        pendingWrite = write as SharedWrite
      }
      const { promise } = pendingWrite
      queueTrigger(id, outcome)
      return promise
    },

    async flush () {
      flushing = true
      if (paced !== undefined) {
        clearTimeout(paced)
        paced = undefined
        change(writeTriggers).catch(() => {})
      }
      await tail.catch(() => {})
    }
  }

  /**
   * One rewrite of webhooks.json (two fsyncs and a rename) per second at most, shared by every
   * trigger that arrives meanwhile, not one per delivery: under load those fsyncs queued the
   * inbox journal's own behind them (ADR 0033). The first trigger after a quiet second is written
   * at once. The delivery is finished in the inbox only once its count is written, so a crash
   * before that replays the delivery instead of losing its count.
   */
  function queueTrigger (id: string, outcome: TriggerOutcome): void {
    const f = pendingCounts.get(id)
    if (f !== undefined) {
      f.count++
      // Dispatches may finish out of order: the count always grows, the "last" fields only move forward.
      if (outcome.at >= f.at) { f.at = outcome.at; f.error = outcome.error }
      return
    }
    pendingCounts.set(id, { count: 1, at: outcome.at, error: outcome.error })
    if (pendingCounts.size > 1) return
    const wait = flushing ? 0 : lastTriggerWrite + triggerInterval - performance.now()
    if (wait <= 0) change(writeTriggers).catch(() => {})
    else paced = setTimeout(() => { paced = undefined; change(writeTriggers).catch(() => {}) }, wait)
  }

  async function writeTriggers (): Promise<void> {
    lastTriggerWrite = performance.now()
    const callers = pendingCallers
    const shared = pendingWrite
    const folded = pendingCounts
    pendingCallers = []
    pendingWrite = undefined
    pendingCounts = new Map()
    // One new hook per hook and write: a copy of the whole hook per delivery was ~4 % of a
    // delivery's allocations under load (ADR 0036). A hook deleted meanwhile is left out.
    for (const id of folded.keys()) if (!state.byId.has(id)) folded.delete(id)
    const byId = new Map(state.byId)
    for (const [id, f] of folded) {
      const hook = byId.get(id)!
      const previous = hook.last_triggered_at === null ? Number.NEGATIVE_INFINITY : Date.parse(hook.last_triggered_at)
      const newer = Number.isNaN(previous) || f.at >= previous
      byId.set(id, deepFreeze({ ...hook, trigger_count: hook.trigger_count + f.count, ...(newer && { last_triggered_at: new Date(f.at).toISOString(), last_error: f.error }) }))
    }
    try {
      if (folded.size > 0) {
        const entries = state.entries.map((e) => e.valid && byId.get(e.hook.id) !== e.hook ? { valid: true as const, hook: byId.get(e.hook.id) as Readonly<Hook> } : e)
        await commit(buildState(entries, state.extra))
      }
      for (const c of callers) c.resolve(folded.has(c.id) ? byId.get(c.id) : undefined)
      shared?.resolve()
    } catch (err) {
      for (const c of callers) c.reject(err)
      shared?.reject(err)
    }
  }

  return store
}

function buildState (entries: readonly Entry[], extra: Readonly<Record<string, unknown>>): State {
  const byId = new Map<string, Readonly<Hook>>()
  for (const entry of entries) if (entry.valid) byId.set(entry.hook.id, entry.hook)
  return { entries, byId, extra }
}

function invalidEntries (entries: readonly Entry[]): InvalidHookEntry[] {
  const out: InvalidHookEntry[] = []
  entries.forEach((entry, index) => {
    if (!entry.valid) out.push({ index, id: rawId(entry.raw), problems: entry.problems })
  })
  return out
}

function rawId (raw: unknown): string | undefined {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined
  return typeof id === 'string' ? id : undefined
}

/** On reload, a hand-edited file must not make counters run backwards. */
function keepCounters (hook: Hook, known: Readonly<Hook> | undefined): Hook {
  if (known === undefined || known.trigger_count <= hook.trigger_count) return hook
  return { ...hook, trigger_count: known.trigger_count, last_triggered_at: known.last_triggered_at, last_error: known.last_error }
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

import { readFile, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import type { Clock } from '../clock.ts'
import { systemClock } from '../clock.ts'
import { DuctorError, ErrorCodes, UserFileError } from '../errors.ts'
import type { Logger } from '../logger-types.ts'
import { removeOrphanTemps, writeFileAtomic } from '../atomic-json.ts'
import { describeJsonProblem, jsonProblem } from '../json-location.ts'
import { cronJobProblem, scheduleProblem } from './cron-plan.ts'
import { halfWindowProblem } from './quiet-hours.ts'
import { otherProvidersModel } from '../models.ts'
import {
  CronJobCreateSchema, CronJobPatchSchema, DEFAULT_AGENT_INSTRUCTION, parseCronJobsDocument,
  schemaProblem, serializeCronJob, type CronJob, type CronJobCreate, type CronJobPatch
} from './cron-schema.ts'
import { canonicalTimezone, isValidTimezone } from '../tz.ts'

/**
 * `cron_jobs.json` (SPEC §8.2) in memory, with O(1) lookup by id and serialized atomic writes.
 *
 * Hand edits: `reload()` costs one `stat` when nothing changed, so the scheduler may call it every
 * few seconds. The store remembers the file identity (inode, size, mtime in ns) and the content hash
 * of what it wrote or accepted last; a file that changed identity but not content is not a change,
 * so the service's own writes are never mistaken for hand edits.
 *
 * A hand edit that does not validate is NOT moved aside (the user may be half-way through editing):
 * the last good jobs stay in force, the problem is logged once per distinct content, and until the
 * file is fixed the store refuses changes through the API (`conflict`) instead of overwriting the
 * user's text; run results are then kept in memory only. At startup `load()` refuses a file that
 * is not JSON or not `{ "jobs": [...] }` with a UserFileError naming file, line and column (exit 2):
 * the user's file is never moved aside (ADR 0017). A file that disappears keeps the last jobs in memory (delete-to-clear is
 * not a thing: write `{"jobs": []}`); the next change recreates it.
 */

export interface CronRunRecord {
  /** `success`, `error:timeout`, `error:exit_<code>`, `skipped:quiet_hours`, … */
  status: string
  /** When the run ended (ms). */
  at: number
}

export type CronReloadResult =
  | { status: 'unchanged' }
  | { status: 'reloaded', count: number }
  | { status: 'invalid', problem: string }
  | { status: 'missing' }
  /** `reload({ unlessBusy: true })` while a write is queued or running (the write reads the file first). */
  | { status: 'busy' }

export type CronLoadResult =
  | { status: 'ok' | 'missing', count: number }

export interface CronStore {
  /** Startup load; a file that is not JSON (or not `{ jobs: [...] }`) throws a UserFileError and is left as it is. */
  load: () => Promise<CronLoadResult>
  /**
   * Picks up hand edits (see the module doc). `unlessBusy`: answer `busy` at once instead of waiting
   * behind a queued write (the scheduler's periodic check; the write itself picks up a hand edit first).
   */
  reload: (opts?: { unlessBusy?: boolean }) => Promise<CronReloadResult>
  list: () => readonly CronJob[]
  get: (id: string) => CronJob | undefined
  create: (input: CronJobCreate) => Promise<CronJob>
  update: (id: string, patch: CronJobPatch) => Promise<CronJob>
  remove: (id: string) => Promise<boolean>
  /** Records a run's end; false when the job no longer exists. */
  recordRun: (id: string, run: CronRunRecord) => Promise<boolean>
  /** Increases when jobs are added, removed or edited (own or by hand), not for run results: re-plan when it moved. */
  readonly revision: number
  /** The problem of a hand edit currently refused, or null. */
  readonly pendingProblem: string | null
}

interface Snapshot {
  text: string
  identity: string
  hash: string
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

export function createCronStore (opts: { path: string, logger?: Logger, clock?: Clock }): CronStore {
  const { path, logger } = opts
  const clock = opts.clock ?? systemClock
  const name = basename(path)
  let jobs = new Map<string, CronJob>()
  let extra: Record<string, unknown> = {}
  let listCache: CronJob[] | null = null
  let revision = 0
  /** Identity and hash of the content in force (written by us or accepted from disk). */
  let known: { identity: string | null, hash: string | null } = { identity: null, hash: null }
  /** A hand edit we refused: its identity (to skip re-reading) and problem. */
  let refused: { identity: string, hash: string, problem: string } | null = null
  let missingLogged = false
  let chain: Promise<unknown> = Promise.resolve()
  /** Operations queued or running on the chain. */
  let queued = 0

  function serialized<T> (fn: () => Promise<T>): Promise<T> {
    queued++
    const next = chain.then(fn, fn).finally(() => { queued-- })
    chain = next.catch(() => {})
    return next
  }

  async function identityOf (): Promise<string | null> {
    try {
      const s = await stat(path, { bigint: true })
      return `${s.ino}:${s.size}:${s.mtimeNs}`
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw new DuctorError(ErrorCodes.storage, `could not stat ${path}: ${(err as Error).message}`, { cause: err })
    }
  }

  async function readSnapshot (): Promise<Snapshot | null> {
    const identity = await identityOf()
    if (identity === null) return null
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw new DuctorError(ErrorCodes.storage, `could not read ${path}: ${(err as Error).message}`, { cause: err })
    }
    return { text, identity, hash: sha256(text) }
  }

  function adopt (list: CronJob[], rest: Record<string, unknown>): void {
    jobs = new Map(list.map((job) => [job.id, job]))
    extra = rest
    listCache = null
    revision++
  }

  function parse (text: string): ReturnType<typeof parseCronJobsDocument> {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (err) {
      const where = jsonProblem(text)
      return { ok: false, problem: where === null ? `not valid JSON: ${(err as Error).message}` : `not valid JSON: line ${where.line}, column ${where.column}: ${where.message}` }
    }
    return parseCronJobsDocument(raw)
  }

  /** Brings memory in line with the file; the caller holds the chain. */
  async function syncFromDisk (): Promise<CronReloadResult> {
    const identity = await identityOf()
    if (identity === null) {
      if (known.identity !== null && !missingLogged) {
        logger?.warn({ path }, `${name} disappeared; keeping the ${jobs.size} jobs in memory until the next change writes it again`)
        missingLogged = true
      }
      refused = null
      return { status: 'missing' }
    }
    missingLogged = false
    if (identity === known.identity) return { status: 'unchanged' }
    if (refused !== null && identity === refused.identity) return { status: 'invalid', problem: refused.problem }
    const snap = await readSnapshot()
    if (snap === null) return { status: 'missing' }
    if (snap.hash === known.hash) {
      known = { identity: snap.identity, hash: snap.hash }
      refused = null
      return { status: 'unchanged' }
    }
    const parsed = parse(snap.text)
    if (!parsed.ok) {
      if (refused?.hash !== snap.hash) {
        logger?.error({ path, problem: parsed.problem }, `${name} was edited by hand and is not valid; keeping the previous ${jobs.size} jobs until it is fixed`)
      }
      refused = { identity: snap.identity, hash: snap.hash, problem: parsed.problem }
      return { status: 'invalid', problem: parsed.problem }
    }
    refused = null
    known = { identity: snap.identity, hash: snap.hash }
    adopt(parsed.jobs, parsed.extra)
    logger?.info({ path, count: parsed.jobs.length }, `${name} changed on disk; reloaded ${parsed.jobs.length} jobs`)
    reportProblems(parsed.jobs)
    return { status: 'reloaded', count: parsed.jobs.length }
  }

  async function persist (next: Map<string, CronJob>, planChanged = true): Promise<void> {
    const text = JSON.stringify({ ...extra, jobs: [...next.values()].map(serializeCronJob) }, null, 2) + '\n'
    await writeFileAtomic(path, text)
    known = { identity: await identityOf(), hash: sha256(text) }
    missingLogged = false
    jobs = next
    listCache = null
    if (planChanged) revision++
  }

  /** Run results waiting for the next write, by job id (the latest wins). */
  let pendingRuns = new Map<string, CronRunRecord>()
  let pendingFlush: Promise<Set<string>> | null = null

  /** Writes every pending run result at once; resolves to the ids of the jobs that still exist. */
  async function writeRuns (): Promise<Set<string>> {
    pendingFlush = null
    const batch = pendingRuns
    pendingRuns = new Map()
    const state = await syncFromDisk()
    const found = new Set<string>()
    const next = new Map(jobs)
    for (const [id, run] of batch) {
      const existing = next.get(id)
      if (existing === undefined) continue
      found.add(id)
      next.set(id, { ...existing, last_run_at: new Date(run.at).toISOString(), last_run_status: run.status })
    }
    if (found.size === 0) return found
    if (state.status === 'invalid') {
      // Never overwrite a hand edit in progress: keep the results in memory only.
      jobs = next
      listCache = null
      logger?.warn({ path, jobIds: [...found] }, `run result kept in memory only: ${name} has an invalid hand edit`)
      return found
    }
    // A result changes no schedule: no re-plan (`revision` stays), which with 10,000 jobs costs ms per tick.
    await persist(next, false)
    return found
  }

  /** Runs a change against the freshest state; refuses while a broken hand edit is on disk. */
  async function mutate<T> (change: (current: Map<string, CronJob>) => { next: Map<string, CronJob>, result: T } | null, fallback: T): Promise<T> {
    return await serialized(async () => {
      const state = await syncFromDisk()
      if (state.status === 'invalid') {
        throw new DuctorError(ErrorCodes.conflict, `${name} was edited by hand and is not valid (${state.problem}); fix the file first`)
      }
      const outcome = change(jobs)
      if (outcome === null) return fallback
      await persist(outcome.next)
      return outcome.result
    })
  }

  /**
   * Checks the fields a change sets (all of a new job's, only the given ones of a patch), so a job
   * with one bad field can be fixed one field at a time. Zones are stored canonical.
   */
  function checkSemantics (fields: { schedule?: string, timezone?: string }): void {
    if (fields.schedule !== undefined) {
      const problem = scheduleProblem(fields.schedule)
      if (problem !== null) throw new DuctorError(ErrorCodes.badRequest, problem)
    }
    if (fields.timezone !== undefined && fields.timezone !== '' && !isValidTimezone(fields.timezone)) {
      throw new DuctorError(ErrorCodes.badRequest, `timezone "${fields.timezone}" is not a known IANA time zone (e.g. Europe/Berlin)`)
    }
  }

  /** Logs, once per content, each job that cannot run as written (it stays listed with its problem). */
  function reportProblems (list: Iterable<CronJob>): void {
    for (const job of list) {
      const problem = cronJobProblem(job)
      if (problem !== null) logger?.error({ path, jobId: job.id, problem }, `cron job "${job.id}" will not run: ${problem}`)
    }
  }

  function badInput (problem: string | null): void {
    if (problem !== null) throw new DuctorError(ErrorCodes.badRequest, problem)
  }

  return {
    async load () {
      return await serialized(async () => {
        await removeOrphanTemps(path)
        const snap = await readSnapshot()
        if (snap === null) {
          adopt([], {})
          known = { identity: null, hash: null }
          return { status: 'missing', count: 0 }
        }
        const parsed = parse(snap.text)
        if (parsed.ok) {
          adopt(parsed.jobs, parsed.extra)
          reportProblems(parsed.jobs)
          known = { identity: snap.identity, hash: snap.hash }
          return { status: 'ok', count: parsed.jobs.length }
        }
        // cron_jobs.json is the user's file: never moved aside or replaced. The start stops with the
        // file, line and column (issue 16, ADR 0017); the jobs come back when the file is fixed.
        const syntax = jsonProblem(snap.text)
        const then = 'ductor left it as it is; fix it and start ductor again'
        throw new UserFileError(path, syntax !== null ? `${describeJsonProblem(path, syntax)}; ${then}` : `${path}: ${parsed.problem}; ${then}`)
      })
    },
    async reload (opts = {}) {
      if (opts.unlessBusy === true && queued > 0) return { status: 'busy' }
      return await serialized(syncFromDisk)
    },
    list () {
      listCache ??= [...jobs.values()]
      return listCache
    },
    get (id) {
      return jobs.get(id)
    },
    async create (input) {
      badInput(schemaProblem(CronJobCreateSchema, input))
      const job: CronJob = {
        id: input.id,
        title: input.title,
        description: input.description ?? '',
        schedule: input.schedule,
        task_folder: input.task_folder ?? input.id,
        agent_instruction: input.agent_instruction ?? DEFAULT_AGENT_INSTRUCTION,
        enabled: input.enabled ?? true,
        timezone: canonicalTimezone(input.timezone) ?? input.timezone ?? '',
        created_at: new Date(clock.now()).toISOString(),
        last_run_at: null,
        last_run_status: null,
        provider: input.provider ?? null,
        model: input.model ?? null,
        reasoning_effort: input.reasoning_effort ?? null,
        cli_parameters: input.cli_parameters ?? [],
        quiet_start: input.quiet_start ?? null,
        quiet_end: input.quiet_end ?? null,
        dependency: input.dependency ?? null,
        permission_mode: input.permission_mode ?? null
      }
      checkSemantics(job)
      badInput(halfWindowProblem(job))
      badInput(otherProvidersModel(job))
      return await mutate((current) => {
        if (current.has(job.id)) throw new DuctorError(ErrorCodes.conflict, `a cron job with id "${job.id}" already exists`)
        const next = new Map(current)
        next.set(job.id, job)
        return { next, result: job }
      }, job)
    },
    async update (id, patch) {
      badInput(schemaProblem(CronJobPatchSchema, patch))
      return await mutate((current) => {
        const existing = current.get(id)
        if (existing === undefined) throw new DuctorError(ErrorCodes.notFound, `no cron job with id "${id}"`)
        checkSemantics(patch)
        const job: CronJob = { ...existing, ...patch, ...(patch.timezone !== undefined && { timezone: canonicalTimezone(patch.timezone) ?? patch.timezone }) }
        // Only a change of the quiet hours is checked: an unrelated edit of a job a file gave half a window still saves.
        if (patch.quiet_start !== undefined || patch.quiet_end !== undefined) badInput(halfWindowProblem(job))
        // Likewise a provider or model of a job a file gave a model of the other provider (it fails at run time, saying so).
        if (patch.provider !== undefined || patch.model !== undefined) badInput(otherProvidersModel(job))
        const next = new Map(current)
        next.set(id, job)
        return { next, result: job }
      }, undefined as never)
    },
    async remove (id) {
      return await mutate((current) => {
        if (!current.has(id)) return null
        const next = new Map(current)
        next.delete(id)
        return { next, result: true }
      }, false)
    },
    recordRun (id, run) {
      // Results that arrive while a write is queued or running share the next write: one rewrite
      // of the file per batch instead of one per run (10,000 jobs: the file is megabytes, and a
      // run per job each rewriting it made the next reload wait minutes; docs/benchmarks.md, P7).
      pendingRuns.set(id, run)
      const flush = pendingFlush ??= serialized(writeRuns)
      return flush.then((found) => found.has(id))
    },
    get revision () {
      return revision
    },
    get pendingProblem () {
      return refused?.problem ?? null
    }
  }
}

import { randomBytes } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { Type } from '../schema-type.ts'
import type { Static } from 'typebox'
import { DuctorError, ErrorCodes } from '../errors.ts'
import { systemClock } from '../clock.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import { writeFileAtomic } from '../atomic-json.ts'
import { openAppendLog } from './append-log.ts'
import { removeStaleTemps, scanLines } from './line-files.ts'
import { RunKinds, type RunKind, type RunEnd, type RunLog, type RunStart } from '../core/run-log.ts'

/**
 * Run history (SPEC §8.2, §10): one record per run of any kind. Stored as JSONL, one full record
 * per line, written when a run starts and again when it ends; the last line for an id wins. A line
 * is in the file (so a crash of the process keeps it) before the call resolves, and fsynced within
 * a second (lazily, shared with every line written meanwhile): a record is not a message, and an
 * fsync per record cost the webhook route a quarter of its throughput (docs/benchmarks.md, P1). A
 * run still `running` when the file is opened again was cut off by a crash or a kill: it becomes
 * `error:interrupted`. The newest `maxRuns` are kept in memory and on disk (older finished
 * runs are dropped; the file is rewritten once it holds twice as many lines).
 */

/** The shape scripts rely on (SPEC §10). Timestamps are ISO strings. */
export const RunSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('chat'), Type.Literal('cron'), Type.Literal('webhook'), Type.Literal('heartbeat')]),
  ref: Type.Union([Type.String(), Type.Null()]),
  chat_id: Type.Union([Type.Integer(), Type.String(), Type.Null()]),
  provider: Type.Union([Type.String(), Type.Null()]),
  model: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: '`running`, `success`, `error:<reason>` or `skipped:<reason>`' }),
  started_at: Type.String(),
  ended_at: Type.Union([Type.String(), Type.Null()]),
  cost_usd: Type.Union([Type.Number(), Type.Null()]),
  tokens: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()])
})
export type Run = Static<typeof RunSchema>

/** One run with its reply (`GET /api/runs/:id`, SPEC §10): the final text, bounded, secrets masked. */
export const RunDetailSchema = Type.Object({
  ...RunSchema.properties,
  reply: Type.Union([Type.String(), Type.Null()], { description: 'the final reply (at most 8,000 characters, longer ones cut with a note; secrets masked), or null when there was none' })
})
export type RunDetail = Static<typeof RunDetailSchema>

/** The longest reply kept in a record; 5,000 records of this size stay under 40 MB. */
const MAX_REPLY_CHARS = 8000
/** The longest error text kept. */
const MAX_ERROR_CHARS = 2000

/** `text` cut to `max` characters with a note saying how much was left out. */
function boundText (text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}\n… [${text.length - max} more characters not kept]`
}

export interface RunFilter {
  kind?: RunKind
  /** Exact status, or its family: `error` matches every `error:…`. */
  status?: string
  ref?: string
  chat_id?: number | string
  /** Default 50. */
  limit?: number
}

export interface RunHistoryOptions {
  /** e.g. `<home>/state/runs.jsonl` */
  path: string
  clock?: Clock
  logger?: Logger
  /** Runs kept. Default 5000. */
  maxRuns?: number
  syncFile?: (handle: FileHandle) => Promise<void>
  /** Masks secrets in replies and error texts before they are kept (the service's secret set). */
  mask?: (text: string) => string
}

/** The run log the core records through (`RunLog`), and what the admin API reads. */
export interface RunHistory extends RunLog {
  /** Records a run as `running`; resolves once it is on disk. */
  start: (input: RunStart) => Promise<Run>
  /** Records how a run ended. Unknown ids give undefined; a run that already ended is left as it is. */
  finish: (id: string, end: RunEnd) => Promise<Run | undefined>
  /** Records a run that started and ended at once (e.g. `skipped:quiet_hours`). */
  record: (input: RunStart & RunEnd) => Promise<Run>
  /** One run with its reply. */
  get: (id: string) => RunDetail | undefined
  /** Newest first, without replies. */
  list: (filter?: RunFilter) => Run[]
  active: () => Run[]
  /**
   * A run recorded as `running` that no process of this service is working on (nothing will ever
   * finish it) becomes `error:interrupted` with `error`. Other runs are returned as they are.
   */
  interrupt: (id: string, error: string) => Promise<Run | undefined>
  /** The runs this open found `running` (the last process died under them), now `error:interrupted`. */
  interruptedAtOpen: () => Run[]
  close: () => Promise<void>
}

const endStatus = /^(success|(error|skipped):\S.*)$/

function nullableString (v: unknown): string | null { return typeof v === 'string' ? v : null }
function nullableNumber (v: unknown): number | null { return typeof v === 'number' && Number.isFinite(v) ? v : null }

/** Reads one stored line back into exactly the Run shape, or undefined if it is not one. */
function toRun (raw: Record<string, unknown>): RunDetail | undefined {
  if (typeof raw.id !== 'string' || !(RunKinds as readonly unknown[]).includes(raw.kind) ||
    typeof raw.status !== 'string' || typeof raw.started_at !== 'string') return undefined
  const chatId = raw.chat_id
  return {
    id: raw.id,
    kind: raw.kind as RunKind,
    ref: nullableString(raw.ref),
    chat_id: typeof chatId === 'string' || (typeof chatId === 'number' && Number.isSafeInteger(chatId)) ? chatId : null,
    provider: nullableString(raw.provider),
    model: nullableString(raw.model),
    status: raw.status,
    started_at: raw.started_at,
    ended_at: nullableString(raw.ended_at),
    cost_usd: nullableNumber(raw.cost_usd),
    tokens: nullableNumber(raw.tokens),
    error: nullableString(raw.error),
    reply: nullableString(raw.reply)
  }
}

/**
 * The list shape: a run without its reply. Written out field by field (the schema's order): a rest
 * pattern copies through a slow runtime path, once per recorded run (ADR 0048).
 */
function summary (run: RunDetail): Run {
  return {
    id: run.id,
    kind: run.kind,
    ref: run.ref,
    chat_id: run.chat_id,
    provider: run.provider,
    model: run.model,
    status: run.status,
    started_at: run.started_at,
    ended_at: run.ended_at,
    cost_usd: run.cost_usd,
    tokens: run.tokens,
    error: run.error
  }
}

/** Runs serialized per turn of the event loop when the file is rewritten. */
const ROTATE_SLICE = 500

/** Random bytes for run ids, drawn 3 KiB at a time: one `randomBytes` call per id cost ~8 % of a webhook delivery's CPU (issue 20). */
const ID_POOL_BYTES = 3 * 1024
let idPool = Buffer.alloc(0)
let idPoolAt = 0

/** A run id: the start time in base 36 and 6 random hex digits (sorts by start, unique enough). */
export function newRunId (now: number): string {
  if (idPoolAt + 3 > idPool.length) {
    idPool = randomBytes(ID_POOL_BYTES)
    idPoolAt = 0
  }
  const random = idPool.toString('hex', idPoolAt, idPoolAt + 3)
  idPoolAt += 3
  return `${now.toString(36)}-${random}`
}

export async function createRunHistory (opts: RunHistoryOptions): Promise<RunHistory> {
  const { path, logger } = opts
  const clock = opts.clock ?? systemClock
  const maxRuns = opts.maxRuns ?? 5000
  const nowIso = (): string => new Date(clock.now()).toISOString()
  const runs = new Map<string, RunDetail>()
  const mask = opts.mask ?? ((text: string) => text)

  let lines = 0
  let skipped = 0
  let rotation: Promise<void> | null = null
  let closing = false
  await removeStaleTemps(path)
  const scan = await scanLines(path, (line) => {
    lines++
    try {
      const run = toRun(JSON.parse(line.toString('utf8')) as Record<string, unknown>)
      if (run === undefined) skipped++
      else runs.set(run.id, run)
    } catch {
      skipped++
    }
  })
  if (skipped > 0) logger?.warn({ path, skipped }, 'run history: ignored unreadable lines')
  // The ids in the order they were added, for trim(): walking the Map from its front after thousands
  // of deletes skips every deleted slot each time, about 5 % of a webhook delivery's CPU (ADR 0036).
  let order: string[] = [...runs.keys()]
  let head = 0
  /** Ids trim() passed over because their run was still running, oldest first (the first to go once they end). */
  let heldRunning: string[] = []
  const interrupted = [...runs.values()].filter((r) => r.status === 'running')
  for (const run of interrupted) Object.assign(run, { status: 'error:interrupted', error: 'the service stopped while this run was active' })
  trim()
  if (lines > 2 * maxRuns) {
    await writeFileAtomic(path, snapshot())
    lines = runs.size
  }
  const log = await openAppendLog(path, { logger, truncateTo: scan.validEnd, syncFile: opts.syncFile })
  if (interrupted.length > 0) {
    logger?.warn({ path, runs: interrupted.map((r) => r.id) }, 'run history: runs interrupted by the last stop')
    await Promise.all(interrupted.filter((r) => runs.has(r.id)).map(write))
  }

  /** Drops the oldest runs that are not running until at most `maxRuns` are left. */
  function trim (): void {
    if (runs.size <= maxRuns) return
    if (heldRunning.length > 0) {
      const still: string[] = []
      for (const id of heldRunning) {
        const run = runs.get(id)
        if (run === undefined) continue
        if (runs.size > maxRuns && run.status !== 'running') runs.delete(id)
        else still.push(id)
      }
      heldRunning = still
    }
    while (runs.size > maxRuns && head < order.length) {
      const id = order[head++]!
      const run = runs.get(id)
      if (run === undefined) continue
      if (run.status === 'running') heldRunning.push(id)
      else runs.delete(id)
    }
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head)
      head = 0
    }
  }

  function snapshot (): Buffer {
    let text = ''
    for (const run of runs.values()) text += JSON.stringify(run) + '\n'
    return Buffer.from(text)
  }

  /**
   * Rewrites the file with one line per kept run (ADR 0041). Lines go on being appended meanwhile:
   * the runs are serialized a slice per turn of the event loop (5,000 at once held the loop for
   * 7-50 ms under load, once every 5,000 runs) and written and synced while appends go on; the lines
   * appended since the rewrite began follow them in the new file (the last line for an id wins, so a
   * run serialized after it changed, and again in those lines, reads back the same).
   */
  function maybeRotate (): void {
    if (rotation !== null || closing || lines <= 2 * maxRuns) return
    rotation = rotate().catch((err: unknown) => logger?.error({ err, path }, 'run history: rotation failed'))
      .finally(() => {
        rotation = null
        // Lines appended while it ran may be past the bound again.
        maybeRotate()
      })
  }

  async function rotate (): Promise<void> {
    const from = log.size()
    lines = runs.size
    const parts: Buffer[] = []
    let text = ''
    let n = 0
    for (const run of runs.values()) {
      text += JSON.stringify(run) + '\n'
      if (++n % ROTATE_SLICE === 0) {
        parts.push(Buffer.from(text))
        text = ''
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    parts.push(Buffer.from(text))
    await log.rewrite(from, parts)
  }

  async function write (run: RunDetail): Promise<void> {
    lines++
    const done = log.append(Buffer.from(JSON.stringify(run) + '\n'), { durable: false })
    maybeRotate()
    // The history is a record, not the work: a run goes on (and is listed from memory) when its line
    // cannot be written, e.g. on a full disk; the next line for the same run supersedes it anyway.
    await done.catch((err: unknown) => logger?.error({ err, path, runId: run.id }, 'run history: could not write; the run goes on'))
  }

  function newId (): string {
    return newRunId(clock.now())
  }

  function applyEnd (run: RunDetail, end: RunEnd, now?: string): void {
    if (!endStatus.test(end.status)) throw new DuctorError(ErrorCodes.badRequest, `invalid run status ${JSON.stringify(end.status)}`)
    run.status = end.status
    run.ended_at = end.ended_at ?? now ?? nowIso()
    // Dollars to a millionth: the CLI's sums carry float noise (0.020925000000000003).
    run.cost_usd = end.cost_usd === null || end.cost_usd === undefined ? null : Math.round(end.cost_usd * 1e6) / 1e6
    run.tokens = end.tokens ?? null
    run.error = end.error === undefined || end.error === null ? null : boundText(mask(end.error), MAX_ERROR_CHARS)
    run.reply = end.reply === undefined || end.reply === null || end.reply === '' ? null : boundText(mask(end.reply), MAX_REPLY_CHARS)
    if (end.provider !== undefined) run.provider = end.provider
    if (end.model !== undefined) run.model = end.model
  }

  function begin (input: RunStart, now?: string): RunDetail {
    if (!(RunKinds as readonly string[]).includes(input.kind)) throw new DuctorError(ErrorCodes.badRequest, `invalid run kind ${JSON.stringify(input.kind)}`)
    const id = input.id ?? newId()
    if (runs.has(id)) throw new DuctorError(ErrorCodes.conflict, `run ${id} already exists`)
    return {
      id,
      kind: input.kind,
      ref: input.ref ?? null,
      chat_id: input.chat_id ?? null,
      provider: input.provider ?? null,
      model: input.model ?? null,
      status: 'running',
      started_at: input.started_at ?? now ?? nowIso(),
      ended_at: null,
      cost_usd: null,
      tokens: null,
      error: null,
      reply: null
    }
  }

  function add (run: RunDetail): void {
    runs.set(run.id, run)
    order.push(run.id)
    trim()
  }

  function matches (run: RunDetail, f: RunFilter): boolean {
    if (f.kind !== undefined && run.kind !== f.kind) return false
    if (f.ref !== undefined && run.ref !== f.ref) return false
    if (f.chat_id !== undefined && String(run.chat_id) !== String(f.chat_id)) return false
    if (f.status !== undefined && run.status !== f.status && !run.status.startsWith(`${f.status}:`)) return false
    return true
  }

  return {
    async start (input) {
      const run = begin(input)
      add(run)
      await write(run)
      return summary(run)
    },
    async finish (id, end) {
      const run = runs.get(id)
      if (run === undefined) {
        logger?.warn({ runId: id }, 'run history: finish for an unknown run')
        return undefined
      }
      if (run.status !== 'running') return summary(run)
      applyEnd(run, end)
      await write(run)
      return summary(run)
    },
    async record (input) {
      // Started and ended at once: one clock reading for both.
      const now = input.started_at === undefined || input.ended_at === undefined ? nowIso() : undefined
      const run = begin(input, now)
      applyEnd(run, input, now)
      add(run)
      await write(run)
      return summary(run)
    },
    get (id) {
      const run = runs.get(id)
      return run === undefined ? undefined : { ...run }
    },
    list (filter = {}) {
      const limit = Math.max(0, filter.limit ?? 50)
      // Insertion order is start order; a stable sort on started_at keeps ties newest-first.
      return [...runs.values()].reverse()
        .filter((r) => matches(r, filter))
        .sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0))
        .slice(0, limit)
        .map(summary)
    },
    active: () => [...runs.values()].filter((r) => r.status === 'running').map(summary),
    interruptedAtOpen: () => interrupted.map(summary),
    async interrupt (id, error) {
      const run = runs.get(id)
      if (run === undefined) return undefined
      if (run.status !== 'running') return summary(run)
      applyEnd(run, { status: 'error:interrupted', error })
      await write(run)
      return summary(run)
    },
    async close () {
      closing = true
      // A rewrite under way ends first (it may start one more for the lines written meanwhile).
      for (let running = rotation; running !== null; running = rotation) await running
      // Lines written during the last rewrite may have passed the bound again: the file is left bounded.
      if (lines > 2 * maxRuns) await rotate().catch((err: unknown) => logger?.error({ err, path }, 'run history: rotation failed'))
      await log.close()
    }
  }
}

import { statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { Orchestrator } from '../core/orchestrator.ts'
import type { RunLog } from '../core/run-log.ts'
import type { Inbox } from '../store/inbox.ts'
import type { RunTask } from '../automation/task-run-types.ts'
import { createHookStore, type HookStore } from './hook-store.ts'
import { createDispatcher, type Dispatcher } from './dispatch.ts'
import { describeJsonProblem, jsonProblem } from '../json-location.ts'
import { DuctorError, ErrorCodes } from '../errors.ts'

/** The webhooks part (SPEC §9), decorated as `app.webhooks`: the hooks of `webhooks.json` and their dispatcher. */
export interface Webhooks {
  store: HookStore
  dispatcher: Dispatcher
  /**
   * Picks up hand edits of `webhooks.json`: one `stat` when nothing changed. A file that does not
   * parse (an editor halfway through saving) is left alone and the hooks in memory stay in use.
   * Undefined when there is nothing to re-read; else await the promise before reading the store.
   */
  refresh: () => Promise<void> | undefined
}

export interface WebhooksOptions {
  path: string
  config: () => Config
  orchestrator: Pick<Orchestrator, 'handleMessage' | 'defaultSink'>
  runTask: RunTask
  runs: RunLog
  inbox: Pick<Inbox, 'handle'>
  clock: Clock
  logger: Logger
  /** Told every hook token and signing secret as it becomes known, so the logger can scrub them (SPEC §11). */
  onSecret?: (secret: string) => void
}

/** Loads `webhooks.json` and makes the dispatcher the inbox's handler for accepted deliveries. */
export async function createWebhooks (opts: WebhooksOptions): Promise<Webhooks> {
  const logger = opts.logger.child({ component: 'webhooks' })
  // A synchronous stat: for a local file it is one short syscall (~2 µs), where the promise version
  // costs a thread-pool round trip per delivery, the hooks route's largest cost (docs/benchmarks.md, P1).
  const identity = (): string => {
    try {
      const s = statSync(opts.path, { bigint: true, throwIfNoEntry: false })
      return s === undefined ? 'missing' : `${s.ino}:${s.size}:${s.mtimeNs}`
    } catch {
      return 'missing'
    }
  }
  let seen = 'missing'
  // The store's own writes are not hand edits: while one runs, refresh() does not look (else it
  // would re-read the file the store is writing); after it, its result is `seen`.
  let ownWrites = 0
  /** The file changed on disk since the store last read or wrote it: a hand edit not picked up yet. */
  const handEdited = (): boolean => {
    if (ownWrites > 0) return false
    const now = identity()
    return now !== seen && now !== 'missing'
  }
  const guardWrite = async (write: () => Promise<void>): Promise<void> => {
    // A hand edit not picked up yet that does not parse is the user's text in progress: refuse to
    // write over it (the change is refused, the file stays as the user left it; ADR 0017).
    if (handEdited()) {
      const text = await readFile(opts.path, 'utf8').catch(() => null)
      const problem = text === null ? null : jsonProblem(text)
      if (problem !== null) {
        logger.error({ path: opts.path }, `webhooks.json was edited by hand and is not valid JSON: ${describeJsonProblem(opts.path, problem)}; not written over`)
        throw new DuctorError(ErrorCodes.conflict, `webhooks.json was edited by hand and is not valid JSON (${describeJsonProblem(opts.path, problem)}); fix the file first: nothing was changed`)
      }
    }
    ownWrites++
    try {
      await write()
    } finally {
      if (--ownWrites === 0) seen = identity()
    }
  }
  const inner: HookStore = createHookStore({ path: opts.path, logger, clock: opts.clock, guardWrite, handEdited, onHandEditRead: () => learn(undefined) })
  const learn = <T>(result: T): T => {
    for (const hook of inner.list()) {
      opts.onSecret?.(hook.token)
      opts.onSecret?.(hook.hmac_secret)
    }
    return result
  }
  const store: HookStore = {
    ...inner,
    load: async () => learn(await inner.load()),
    reload: async () => learn(await inner.reload()),
    create: async (input) => learn(await inner.create(input)),
    update: async (id, patch) => learn(await inner.update(id, patch)),
    rotateToken: async (id) => learn(await inner.rotateToken(id))
  }
  const loaded = await store.load()
  logger.info(loaded, 'webhooks loaded')
  const dispatcher = createDispatcher({ ...opts, store, logger })
  opts.inbox.handle('webhook', dispatcher.handleEntry)

  seen = identity()
  // One stat per turn of the event loop, shared by every delivery of that turn: a hand edit is picked
  // up by the first request of a later turn (ADR 0036).
  let lookedThisTurn = false
  const lookAgain = (): void => { lookedThisTurn = false }
  // Nothing to re-read (almost every request): no promise at all (ADR 0048).
  function refresh (): Promise<void> | undefined {
    if (ownWrites > 0 || lookedThisTurn) return undefined
    lookedThisTurn = true
    setImmediate(lookAgain)
    const now = identity()
    if (now === seen || now === 'missing') return undefined
    return reread(now)
  }
  async function reread (now: string): Promise<void> {
    let parsed: unknown
    try {
      parsed = JSON.parse(await readFile(opts.path, 'utf8'))
    } catch {
      return
    }
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { hooks?: unknown }).hooks)) return
    seen = now
    const summary = await store.reload()
    logger.debug(summary, 'webhooks.json re-read')
  }
  return { store, dispatcher, refresh }
}

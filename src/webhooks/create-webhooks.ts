import { readFile, stat } from 'node:fs/promises'
import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { Orchestrator } from '../core/orchestrator.ts'
import type { RunHistory } from '../store/run-history.ts'
import type { Inbox } from '../store/inbox.ts'
import type { RunTask } from '../automation/task-run-types.ts'
import { createHookStore, type HookStore } from './hook-store.ts'
import { createDispatcher, type Dispatcher } from './dispatch.ts'

/** The webhook objects of the Core (SPEC §9): the hooks of `webhooks.json` and their dispatcher. */
export interface Webhooks {
  store: HookStore
  dispatcher: Dispatcher
  /**
   * Picks up hand edits of `webhooks.json`: one `stat` when nothing changed. A file that does not
   * parse (an editor halfway through saving) is left alone and the hooks in memory stay in use.
   */
  refresh: () => Promise<void>
}

export interface WebhooksOptions {
  path: string
  config: () => Config
  orchestrator: Pick<Orchestrator, 'handleMessage' | 'defaultSink'>
  runTask: RunTask
  runs: RunHistory
  inbox: Pick<Inbox, 'handle'>
  clock: Clock
  logger: Logger
  /** Told every hook token and signing secret as it becomes known, so the logger can scrub them (SPEC §11). */
  onSecret?: (secret: string) => void
}

/** Loads `webhooks.json` and makes the dispatcher the inbox's handler for accepted deliveries. */
export async function createWebhooks (opts: WebhooksOptions): Promise<Webhooks> {
  const logger = opts.logger.child({ component: 'webhooks' })
  const inner = createHookStore({ path: opts.path, logger, clock: opts.clock })
  const learn = <T>(result: T): T => {
    for (const hook of inner.list()) {
      opts.onSecret?.(hook.token)
      opts.onSecret?.(hook.hmac_secret)
    }
    return result
  }
  const identity = async (): Promise<string> => {
    try {
      const s = await stat(opts.path, { bigint: true })
      return `${s.ino}:${s.size}:${s.mtimeNs}`
    } catch {
      return 'missing'
    }
  }
  let seen = 'missing'
  // The store's own writes are not hand edits: while one is queued or running, refresh() does not
  // look (else every delivery re-read the file and waited behind the queued writes of the
  // trigger counts: ~35–200 deliveries/s; docs/benchmarks.md, P1); after it, its result is `seen`.
  let ownWrites = 0
  const own = async <T>(write: () => Promise<T>): Promise<T> => {
    ownWrites++
    try {
      return await write()
    } finally {
      if (--ownWrites === 0) seen = await identity()
    }
  }
  const store: HookStore = {
    ...inner,
    load: async () => learn(await inner.load()),
    reload: async () => learn(await inner.reload()),
    create: async (input) => learn(await own(() => inner.create(input))),
    update: async (id, patch) => learn(await own(() => inner.update(id, patch))),
    rotateToken: async (id) => learn(await own(() => inner.rotateToken(id))),
    delete: async (id) => await own(() => inner.delete(id)),
    recordTrigger: async (id, outcome) => await own(() => inner.recordTrigger(id, outcome))
  }
  const loaded = await store.load()
  logger.info(loaded, 'webhooks loaded')
  const dispatcher = createDispatcher({ ...opts, store, logger })
  opts.inbox.handle('webhook', dispatcher.handleEntry)

  seen = await identity()
  async function refresh (): Promise<void> {
    if (ownWrites > 0) return
    const now = await identity()
    if (now === seen || now === 'missing') return
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

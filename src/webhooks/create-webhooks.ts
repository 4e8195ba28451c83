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
}

/** Loads `webhooks.json` and makes the dispatcher the inbox's handler for accepted deliveries. */
export async function createWebhooks (opts: WebhooksOptions): Promise<Webhooks> {
  const logger = opts.logger.child({ component: 'webhooks' })
  const store = createHookStore({ path: opts.path, logger, clock: opts.clock })
  const loaded = await store.load()
  logger.info(loaded, 'webhooks loaded')
  const dispatcher = createDispatcher({ ...opts, store, logger })
  opts.inbox.handle('webhook', dispatcher.handleEntry)
  return { store, dispatcher }
}

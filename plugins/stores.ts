import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createSessionStore, type SessionStore } from '../src/core/session-store.ts'
import { createRunHistory, type RunHistory } from '../src/store/run-history.ts'

export interface Stores {
  /** `sessions.json`: each chat's provider sessions (SPEC §6). */
  sessions: SessionStore
  /** `state/runs.jsonl`: one record per run of any kind (SPEC §10). */
  runs: RunHistory
}

declare module 'fastify' {
  interface FastifyInstance {
    stores: Stores
  }
}

/**
 * Opens the sessions and the run history. They close last (onClose runs in reverse order of
 * registration): everything that records into them has drained by then (ADR 0018).
 */
async function storesPlugin (app: FastifyInstance): Promise<void> {
  const { paths, clock, logger, secrets } = app.settings
  const sessions = await createSessionStore({ path: paths.sessions, clock, logger: logger.child({ component: 'sessions' }) })
  const runs = await createRunHistory({ path: join(paths.state, 'runs.jsonl'), clock, logger: logger.child({ component: 'runs' }), mask: (text) => secrets.mask(text) })
  app.decorate('stores', { sessions, runs })
  app.addHook('onClose', async () => {
    await sessions.flush().catch((err: unknown) => logger.error({ err }, 'could not save sessions on shutdown'))
    await runs.close()
  })
}

export default fp(storesPlugin, { name: 'stores', dependencies: ['settings'] })

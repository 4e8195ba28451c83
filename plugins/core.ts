import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Core } from '../src/create-core.ts'

declare module 'fastify' {
  interface FastifyInstance {
    core: Core
  }
}

/** Decorates the app with the core and closes it with the app (runs stopped, children reaped, stores flushed). */
async function corePlugin (app: FastifyInstance, opts: { core: Core }): Promise<void> {
  app.decorate('core', opts.core)
  // Runs are stopped while requests can still be answered (a chat request cut short gets its 503),
  // before Fastify closes the connections; the stores are closed last.
  app.addHook('preClose', async () => { await opts.core.stopRuns() })
  app.addHook('onClose', async () => { await opts.core.close() })
}

export default fp(corePlugin, { name: 'core' })

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
  app.addHook('onClose', async () => { await opts.core.close() })
}

export default fp(corePlugin, { name: 'core' })

import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createWebhooks, type Webhooks } from '../src/webhooks/create-webhooks.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The hooks of `webhooks.json` and the dispatcher the inbox hands deliveries to (SPEC §9). */
    webhooks: Webhooks
  }
}

/** Loads the hooks and makes the dispatcher the inbox's handler for webhook deliveries. */
async function webhooksPlugin (app: FastifyInstance): Promise<void> {
  const { paths, config, clock, logger, secrets } = app.settings
  const webhooks = await createWebhooks({
    path: paths.webhooks,
    config,
    orchestrator: app.orchestrator,
    runTask: app.automation.runTask,
    runs: app.stores.runs,
    inbox: app.inbox,
    clock,
    logger,
    onSecret: (secret) => { secrets.add(secret) }
  })
  app.decorate('webhooks', webhooks)
  // Paced trigger counts are written before the service is gone, not by a timer after it.
  app.addHook('onClose', async () => { await webhooks.store.flush() })
}

export default fp(webhooksPlugin, { name: 'webhooks', dependencies: ['settings', 'stores', 'orchestrator', 'automation', 'inbox'] })

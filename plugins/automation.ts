import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createAutomation, type Automation } from '../src/automation/create-automation.ts'
import { chatRunDeps } from './orchestrator.ts'

export interface AutomationOptions {
  /** Tick interval of the automation loop (default 1000 ms). */
  tickMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Cron jobs, heartbeat, cleanup, and the isolated task runs shared with webhooks (SPEC §8). */
    automation: Automation
  }
}

/**
 * The automation loop starts once the server listens (`onListen`) and its timer stops on
 * `preClose`. Its tasks are aborted on `onClose`, which runs after the inbox's (registered later):
 * the inbox has stopped, so a webhook task aborted here stays unfinished in the journal and is
 * replayed at the next start. Then it waits at most 3 s for the runs to record their end.
 */
async function automationPlugin (app: FastifyInstance, opts: AutomationOptions): Promise<void> {
  const automation = await createAutomation({
    chat: chatRunDeps(app),
    orchestrator: app.orchestrator,
    registry: app.runner.registry,
    tickMs: opts.tickMs
  })
  app.decorate('automation', automation)
  app.addHook('onListen', async () => { automation.scheduler.start() })
  app.addHook('preClose', async () => { await automation.stop() })
  app.addHook('onClose', async () => {
    automation.abort()
    await automation.drain(3000)
  })
}

export default fp(automationPlugin, { name: 'automation', dependencies: ['settings', 'stores', 'runner', 'orchestrator'] })

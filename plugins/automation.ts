import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createAutomation, type Automation } from '../src/automation/create-automation.ts'
import { chatRunDeps } from './orchestrator.ts'
import { syncRuleFiles } from '../src/home/seed.ts'

export interface AutomationOptions {
  /** Tick interval of the automation loop (default 1000 ms). */
  tickMs?: number
  /** How often CLAUDE.md/AGENTS.md are synced across the workspace while running (default 10 s). */
  ruleSyncMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Cron jobs, heartbeat, cleanup, and the isolated task runs shared with webhooks (SPEC §8). */
    automation: Automation
  }
}

/**
 * The automation loop starts once the server listens (`onListen`), with the sync of CLAUDE.md and
 * AGENTS.md; the sync stops on `preClose`.
 */
async function automationPlugin (app: FastifyInstance, opts: AutomationOptions): Promise<void> {
  const automation = await createAutomation({
    chat: chatRunDeps(app),
    orchestrator: app.orchestrator,
    registry: app.runner.registry,
    tickMs: opts.tickMs
  })
  app.decorate('automation', automation)
  const { paths, logger } = app.settings
  // CLAUDE.md and AGENTS.md stay identical while the service runs (SPEC §1), as in the Python
  // version: within `ruleSyncMs` of an edit of one, the other follows (the newer wins). Received and
  // produced files are not walked.
  let ruleSync: NodeJS.Timeout | null = null
  let syncing = false
  const syncRules = (): void => {
    if (syncing) return
    syncing = true
    syncRuleFiles(paths.workspace, { skip: new Set([paths.telegramFiles, paths.outputToUser]) })
      .then((written) => { if (written.length > 0) logger.info({ files: written }, 'rule files synced') })
      .catch((err: unknown) => { logger.warn({ err }, 'rule file sync failed') })
      .finally(() => { syncing = false })
  }
  app.addHook('onListen', async () => {
    automation.scheduler.start()
    ruleSync ??= setInterval(syncRules, opts.ruleSyncMs ?? 10_000).unref()
  })
  // The loop stops, and its tasks are aborted and drained, in the app's preClose (src/app.ts, stopRuns).
  app.addHook('preClose', async () => { if (ruleSync !== null) clearInterval(ruleSync) })
}

export default fp(automationPlugin, { name: 'automation', dependencies: ['settings', 'stores', 'runner', 'orchestrator'] })

import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createApprovals, type Approvals } from '../src/core/approvals.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Pending tool approvals of runs in `permission_mode: "ask"` (issue 21, ADR 0027). */
    approvals: Approvals
  }
}

/**
 * The approvals part: the requests ductor's permission-prompt tool sends (`POST /api/approvals/ask`),
 * answered from Telegram or the admin API, and the remembered "always allow" rules
 * (`state/approval-rules.json`). At the close every request still open is denied.
 */
async function approvalsPlugin (app: FastifyInstance): Promise<void> {
  const { config, paths, clock, logger } = app.settings
  const approvals = await createApprovals({
    clock,
    logger: logger.child({ component: 'approvals' }),
    timeoutSeconds: () => config().approvals.timeout_seconds,
    rulesPath: join(paths.state, 'approval-rules.json')
  })
  app.decorate('approvals', approvals)
  app.addHook('onClose', async () => { approvals.closeAll() })
}

export default fp(approvalsPlugin, { name: 'approvals', dependencies: ['settings'] })

import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createJournal } from '../src/store/journal.ts'
import { createDedupeStore } from '../src/store/dedupe.ts'
import { createInbox, type Inbox } from '../src/store/inbox.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The durable inbox of Telegram updates and webhook deliveries (SPEC §11). */
    inbox: Inbox
  }
}

/**
 * The inbox (journal + dedupe). The service starts it (`inbox.start()`, the replay) once it listens
 * and the runner is ready. Its `onClose` comes after every `preClose` (claim gate shut, every CLI
 * stopped, queues let go, Telegram intake stopped): handlers still waiting settle within 2 s, an
 * entry that never started stays unfinished in the journal and is replayed at the next start
 * (src/store/inbox.ts). Then its files close.
 */
async function inboxPlugin (app: FastifyInstance): Promise<void> {
  const { paths, clock, logger } = app.settings
  const inbox = createInbox({
    gate: app.runner.claims,
    journal: await createJournal({ path: join(paths.state, 'inbox.jsonl'), clock, logger: logger.child({ component: 'inbox' }) }),
    dedupe: await createDedupeStore({ path: join(paths.state, 'dedupe.jsonl'), clock, logger: logger.child({ component: 'dedupe' }) }),
    clock,
    logger: logger.child({ component: 'inbox' })
  })
  app.decorate('inbox', inbox)
  app.addHook('onClose', async () => {
    await inbox.stop(2000)
    await inbox.close().catch((err: unknown) => logger.error({ err }, 'could not close the inbox on shutdown'))
  })
}

export default fp(inboxPlugin, { name: 'inbox', dependencies: ['settings', 'runner'] })

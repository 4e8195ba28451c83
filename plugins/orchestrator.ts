import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createCommandRegistry } from '../src/core/commands.ts'
import { registerCoreCommands } from '../src/core/core-commands.ts'
import { createOrchestrator, type Orchestrator } from '../src/core/orchestrator.ts'
import type { ChatRunDeps } from '../src/core/chat-run.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one core every ingress feeds (SPEC §5): chat lanes, commands, chat runs. */
    orchestrator: Orchestrator
  }
}

/**
 * The orchestrator. On `preClose` its lanes pause: nothing queued starts any more (a message waiting
 * in a lane stays unfinished in the inbox and is answered after the restart, instead of being
 * started now and killed at once). On `onClose` the runs still going are stopped as a shutdown (the
 * chat is told why) and drained for at most 3 s.
 */
async function orchestratorPlugin (app: FastifyInstance): Promise<void> {
  const chat = chatRunDeps(app)
  const { config, paths, sessions } = chat
  const commands = createCommandRegistry()
  const orchestrator = createOrchestrator({ ...chat, commands })
  registerCoreCommands(commands, {
    config,
    sessions,
    isBusy: orchestrator.isBusy,
    queueDepth: (chatId) => orchestrator.lanes.queueDepth(chatId),
    memoryPath: paths.memory,
    providerStatus: app.runner.providerStatus
  })
  app.decorate('orchestrator', orchestrator)
  app.addHook('preClose', async () => { orchestrator.lanes.pause() })
  app.addHook('onClose', async () => {
    for (const { chatId } of orchestrator.lanes.snapshot()) orchestrator.lanes.abort(chatId, 'shutdown')
    await orchestrator.drain(3000)
  })
}

/** What a chat run needs, from the settings, the stores and the runner (the heartbeat's runs too). */
export function chatRunDeps (app: FastifyInstance): ChatRunDeps {
  const { config, paths, clock, logger, timezone } = app.settings
  const { executor, limiter, runLog } = app.runner
  return { config, paths, sessions: app.stores.sessions, runs: runLog, cli: executor, limiter, clock, logger, timezone }
}

export default fp(orchestratorPlugin, { name: 'orchestrator', dependencies: ['settings', 'stores', 'runner'] })

import { describeSandbox } from '../src/sandbox/docker-sandbox.ts'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createCommandRegistry } from '../src/core/commands.ts'
import { registerCoreCommands } from '../src/core/core-commands.ts'
import { registerCommandTable } from '../src/core/command-table.ts'
import { listSkills, skillRoots } from '../src/skills/skill-sync.ts'
import { createOrchestrator, type Orchestrator } from '../src/core/orchestrator.ts'
import type { ChatRunDeps } from '../src/core/chat-run.ts'
import type { ProviderLogins } from '../src/core/fallback.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one core every ingress feeds (SPEC §5): chat lanes, commands, chat runs. */
    orchestrator: Orchestrator
  }
}

/**
 * The orchestrator. Its lanes pause, abort and drain in the app's `preClose` (src/app.ts, stopRuns).
 */
async function orchestratorPlugin (app: FastifyInstance, opts: { version: string }): Promise<void> {
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
    providerStatus: app.runner.providerStatus,
    logins: chat.logins,
    switchDefault: app.settings.switchDefault,
    timezone: app.settings.timezone,
    sandbox: () => describeSandbox(app.runner.sandbox.state())
  })
  registerCommandTable(commands, {
    version: opts.version,
    home: paths.home,
    // Read when the command runs: the automation part is registered after this one.
    cronJobs: () => app.automation.cron.store.list().map((j) => ({ id: j.id, title: j.title, schedule: j.schedule, enabled: j.enabled })),
    skills: async () => await listSkills(skillRoots(paths.skills, app.settings.env))
  })
  app.decorate('orchestrator', orchestrator)
}

/** What a chat run needs, from the settings, the stores and the runner (the heartbeat's runs too). */
export function chatRunDeps (app: FastifyInstance): ChatRunDeps {
  const { config, paths, clock, logger, timezone } = app.settings
  const { executor, limiter, runLog } = app.runner
  let told = fallbackTold.get(app)
  if (told === undefined) fallbackTold.set(app, told = new Set())
  return { config, paths, sessions: app.stores.sessions, runs: runLog, cli: executor, limiter, clock, logger, timezone, claims: app.runner.claims, approvals: app.approvals, logins: providerLogins(app), fallbackTold: told }
}

/** Per app: the chats told about the provider fallback (the chats' runs and the heartbeat's share it). */
const fallbackTold = new WeakMap<FastifyInstance, Set<string>>()
/** A login checked this recently is not checked again for the next message. */
const LOGINS_FRESH_MS = 5000

/**
 * Which CLIs are logged in, for the provider fallback. Claude on macOS keeps its login in the
 * Keychain, which cannot be read: there a Claude without a credentials file counts as unknown, so
 * it is never replaced by a guess.
 */
function providerLogins (app: FastifyInstance): () => Promise<ProviderLogins> {
  let last: { at: number, value: Promise<ProviderLogins> } | null = null
  return async () => {
    const now = app.settings.clock.now()
    if (last === null || now - last.at > LOGINS_FRESH_MS) {
      last = {
        at: now,
        value: app.runner.cliLogins().then(({ claude, codex }) => ({
          claude: claude.loggedIn ? true : claude.installed && process.platform === 'darwin' ? null : false,
          codex: codex.loggedIn
        }))
      }
      last.value.catch(() => { last = null })
    }
    return await last.value
  }
}

export default fp(orchestratorPlugin, { name: 'orchestrator', dependencies: ['settings', 'stores', 'runner', 'approvals'] })

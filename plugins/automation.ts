import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createAutomation, type Automation } from '../src/automation/create-automation.ts'
import { chatRunDeps } from './orchestrator.ts'
import { syncRuleFiles } from '../src/home/seed.ts'
import { removeSkillLinks, skillRoots, syncSkills } from '../src/skills/skill-sync.ts'

export interface AutomationOptions {
  /** Tick interval of the automation loop (default 1000 ms). */
  tickMs?: number
  /** How often CLAUDE.md/AGENTS.md are synced across the workspace while running (default 10 s). */
  ruleSyncMs?: number
  /** How often the skill folders are synced (workspace, ~/.claude, ~/.codex; default 30 s as in the Python version). */
  skillSyncMs?: number
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
    tickMs: opts.tickMs,
    mask: (text) => app.settings.secrets.mask(text),
    interruptedAtOpen: () => app.stores.runs.interruptedAtOpen()
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
  // The three-way skill sync (ADR 0023): at start, every `skillSyncMs`, and our links removed at close.
  const roots = skillRoots(paths.skills, app.settings.env)
  let skillSync: NodeJS.Timeout | null = null
  let skillRun: Promise<void> | null = null
  const syncSkillsNow = async (): Promise<void> => {
    if (!app.settings.config().skills.sync) return
    skillRun ??= syncSkills(roots)
      .then((r) => {
        if (r.linked.length > 0 || r.removed.length > 0) logger.info({ linked: r.linked.length, removed: r.removed.length }, 'skills synced')
        if (r.conflicts.length > 0) logger.debug({ skills: r.conflicts }, 'skills: the same name is a real folder in more than one place; each is kept')
      })
      .catch((err: unknown) => { logger.warn({ err }, 'skill sync failed') })
      .finally(() => { skillRun = null })
    await skillRun
  }
  app.addHook('onListen', async () => {
    automation.scheduler.start()
    ruleSync ??= setInterval(syncRules, opts.ruleSyncMs ?? 10_000).unref()
    await syncSkillsNow()
    skillSync ??= setInterval(() => { syncSkillsNow().catch(() => {}) }, opts.skillSyncMs ?? 30_000).unref()
  })
  // The loop stops, and its tasks are aborted and drained, in the app's preClose (src/app.ts, stopRuns).
  app.addHook('preClose', async () => {
    if (ruleSync !== null) clearInterval(ruleSync)
    if (skillSync !== null) clearInterval(skillSync)
    await skillRun
    if (!app.settings.config().skills.sync) return
    const removed = await removeSkillLinks(roots).catch((err: unknown) => { logger.warn({ err }, 'could not remove the skill links'); return [] })
    if (removed.length > 0) logger.info({ links: removed.length }, 'skill links removed')
  })
}

export default fp(automationPlugin, { name: 'automation', dependencies: ['settings', 'stores', 'runner', 'orchestrator'] })

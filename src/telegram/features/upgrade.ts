import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { checkForUpdate, installKind, installVersion, registryFromEnv } from '../../ops/upgrade.ts'
import { createCommandRunner } from '../../ops/runner.ts'
import { packageRoot } from '../../ops/service-spec.ts'
import { performUpgrade, UPGRADE_DATA, upgradeOffer, type UpgradeFlowDeps } from '../panels/upgrade-flow.ts'
import { answer, editPanel, sendPanel } from '../panels/panel-io.ts'

/**
 * `/upgrade` (SPEC §4): checks the npm registry (`npm_config_registry`, else npmjs.org), offers an
 * Upgrade button, and on a press installs the latest with npm, leaves the upgrade marker and
 * restarts (panels/upgrade-flow.ts). One upgrade at a time.
 */
export function upgradeFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  let running = false
  const flow = (): UpgradeFlowDeps => {
    const env = process.env
    const registry = registryFromEnv(env)
    const root = packageRoot()
    return {
      current: deps.version,
      check: async () => await checkForUpdate(deps.version, fetch, { registry }),
      install: async (version) => await installVersion(createCommandRunner({ env }), version, { registry }),
      kind: installKind(root),
      root,
      stateDir: deps.paths.state,
      now: deps.parts.clock.now
    }
  }

  deps.telegramCommands.set('upgrade', async (ctx) => {
    await ctx.replyWithChatAction('typing').catch(() => {})
    await sendPanel(ctx, await upgradeOffer(flow()))
  })

  feature.callbackQuery(UPGRADE_DATA, async (ctx) => {
    if (running) return await answer(ctx, 'An upgrade is already running.')
    running = true
    try {
      await answer(ctx, 'Upgrading…')
      await editPanel(ctx, { html: 'Upgrading: checking the registry and installing with npm…', keyboard: [] })
      const done = await performUpgrade(flow(), ctx.ductor.chatId)
      await editPanel(ctx, { html: done.html, keyboard: [] })
      if (done.restart) {
        deps.logger.info({ chatId: ctx.ductor.chatId }, 'upgrade installed from Telegram; restarting')
        deps.requestRestart()
      }
    } finally {
      running = false
    }
  })
  return feature
}

import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { NOT_RESTARTABLE } from './restart.ts'
import { checkForUpdate, installKind, installVersion, registryFromEnv } from '../../ops/upgrade.ts'
import { performUpgrade, UPGRADE_DATA, upgradeOffer, type UpgradeFlowDeps } from '../panels/upgrade-flow.ts'
import { answer, editPanel, sendPanel } from '../panels/panel-io.ts'

/**
 * `/upgrade` (SPEC §4): checks the npm registry (`npm_config_registry`, else npmjs.org), offers an
 * Upgrade button, and on a press installs the latest with npm, leaves the upgrade marker and
 * restarts (panels/upgrade-flow.ts). One upgrade at a time.
 */
/** The /upgrade flow of this bot: the registry npm would use, this copy's root and its runner. */
export function upgradeFlow (deps: BotDeps): UpgradeFlowDeps {
  const registry = registryFromEnv(process.env)
  const { root, runner } = deps.updates
  return {
    current: deps.version,
    check: async () => await checkForUpdate(deps.version, fetch, { registry }),
    install: async (version) => await installVersion(runner, version, { registry }),
    kind: installKind(root),
    root,
    stateDir: deps.paths.state,
    now: deps.parts.clock.now
  }
}

export function upgradeFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  let running = false
  const flow = (): UpgradeFlowDeps => upgradeFlow(deps)

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
      if (done.restart && !deps.restartable()) {
        await deps.sendMarkdown(ctx.ductor, NOT_RESTARTABLE.replace('Not restarting', 'The upgrade is installed but ductor was not restarted'))
      } else if (done.restart) {
        deps.logger.info({ chatId: ctx.ductor.chatId }, 'upgrade installed from Telegram; restarting')
        deps.requestRestart()
      }
    } finally {
      running = false
    }
  })
  return feature
}

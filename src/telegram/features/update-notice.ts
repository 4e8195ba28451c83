import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { NOT_RESTARTABLE } from './restart.ts'
import { escapeHtml } from '../format/html.ts'
import { button, type Panel } from '../panels/keyboard.ts'
import { answer, editPanel, sendPanel } from '../panels/panel-io.ts'
import { describeUpdate, readUpdateState, type AvailableUpdate } from '../../ops/update-source.ts'
import { performUpgrade } from '../panels/upgrade-flow.ts'
import { noticeHtml, upgradeGit, UPDATE_GO, UPDATE_LATER, UPDATE_LOG } from '../panels/update-flow.ts'
import { upgradeFlow } from './upgrade.ts'

/**
 * The buttons of the periodic "update available" notice (panels/update-flow.ts; the check runs in
 * telegram-service.ts every `telegram.update_check_hours`). Changelog shows what changed, Upgrade
 * upgrades the way this copy was installed (a checkout: git pull + npm ci + build; a package: npm)
 * and restarts, Later drops the buttons (the next newer version is announced again).
 */
export function updateNoticeFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  let upgrading = false
  const announced = async (ctx: BotContext): Promise<AvailableUpdate | null> => {
    const { update } = await readUpdateState(deps.paths.state)
    if (update === null) await editPanel(ctx, { html: 'This notice is out of date. Send /upgrade to check again.', keyboard: [] })
    return update
  }

  feature.callbackQuery(UPDATE_LOG, async (ctx) => {
    await answer(ctx)
    const u = await announced(ctx)
    if (u === null) return
    const lines = u.changelog.length > 0
      ? u.changelog.map((l) => `• ${escapeHtml(l)}`)
      : [`See what is new in ${escapeHtml(u.latest)}: <a href="https://www.npmjs.com/package/ductor?activeTab=versions">npmjs.com/package/ductor</a>`]
    const more = u.kind === 'git' && u.commits > u.changelog.length ? [`… and ${u.commits - u.changelog.length} more`] : []
    const panel: Panel = { html: [`<b>What is new</b> in ductor ${escapeHtml(describeUpdate(u))}:`, ...lines, ...more].join('\n'), keyboard: [[button('⬆️ Upgrade', UPDATE_GO), button('⏰ Later', UPDATE_LATER)]] }
    await sendPanel(ctx, panel)
  })

  feature.callbackQuery(UPDATE_LATER, async (ctx) => {
    await answer(ctx)
    const u = await announced(ctx)
    if (u === null) return
    await editPanel(ctx, { html: `${noticeHtml(u)}\nLater, then: this version is not announced again. Send /upgrade whenever you like.`, keyboard: [] })
  })

  feature.callbackQuery(UPDATE_GO, async (ctx) => {
    if (upgrading) return await answer(ctx, 'An upgrade is already running.')
    upgrading = true
    try {
      await answer(ctx, 'Upgrading…')
      const u = await announced(ctx)
      if (u === null) return
      const done = u.kind === 'git' ? await upgradeGit(deps, u, ctx.ductor.chatId) : await performUpgrade(upgradeFlow(deps), ctx.ductor.chatId)
      await editPanel(ctx, { html: done.html, keyboard: [] })
      if (done.restart && !deps.restartable()) {
        await deps.sendMarkdown(ctx.ductor, NOT_RESTARTABLE.replace('Not restarting', 'The upgrade is installed but ductor was not restarted'))
      } else if (done.restart) {
        deps.logger.info({ chatId: ctx.ductor.chatId, to: u.latest }, 'upgrade installed from the update notice; restarting')
        deps.requestRestart()
      }
    } finally {
      upgrading = false
    }
  })
  return feature
}

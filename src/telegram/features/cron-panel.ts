import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { CRON_PREFIX, cronView, jobKey, parseCronData, type CronRow } from '../panels/cron-panel.ts'
import { answer, editPanel, sendPanel } from '../panels/panel-io.ts'

/**
 * `/cron` (SPEC §4, §8.2): the jobs with one-tap enable/disable, all on / all off and paging. Every
 * change goes through the cron store, the same store (and validation, and atomic write of
 * `cron_jobs.json`) the admin API uses; the scheduler re-plans from it.
 */
export function cronPanelFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const cron = deps.parts.cron
  const rows = async (): Promise<CronRow[]> => {
    await cron.store.reload().catch(() => {})
    const running = new Set(cron.running())
    return cron.store.list().map((job) => ({
      ...job,
      zone: cron.zoneOf(job),
      next: job.enabled ? cron.nextRunOf(job.id) : null,
      lastStatus: job.last_run_status,
      running: running.has(job.id)
    }))
  }

  deps.telegramCommands.set('cron', async (ctx) => { await sendPanel(ctx, cronView(await rows(), 0)) })

  feature.callbackQuery(new RegExp(`^${CRON_PREFIX}`), async (ctx) => {
    const action = parseCronData(ctx.callbackQuery.data)
    if (action === null) return await answer(ctx, 'This button is not valid any more. Send /cron again.')
    let note = ''
    try {
      if (action.kind === 'toggle') {
        const job = cron.store.list().find((j) => jobKey(j.id) === action.key)
        if (job === undefined) note = 'That job does not exist any more.'
        else {
          const updated = await cron.store.update(job.id, { enabled: !job.enabled })
          note = `${updated.title || updated.id}: ${updated.enabled ? 'enabled' : 'disabled'}.`
        }
      } else if (action.kind === 'all') {
        const change = cron.store.list().filter((j) => j.enabled !== action.enabled)
        for (const job of change) await cron.store.update(job.id, { enabled: action.enabled })
        note = `${action.enabled ? 'Enabled' : 'Disabled'} ${change.length} job${change.length === 1 ? '' : 's'}.`
      }
    } catch (err) {
      note = `Not changed: ${(err as Error).message}`
      deps.logger.warn({ err, chatId: ctx.ductor.chatId }, 'telegram /cron: change refused')
    }
    await answer(ctx, note === '' ? undefined : note.slice(0, 190))
    await editPanel(ctx, cronView(await rows(), action.page, note))
  })
  return feature
}

import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { CANCEL_PREFIX, SPENT_DATA } from '../callback-data.ts'

/** The Cancel button under a "queued" indicator: drops that message from the chat's lane (SPEC §4). */
export function queueCancelFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.callbackQuery(new RegExp(`^${CANCEL_PREFIX}(.+)$`), async (ctx) => {
    const entryId = ctx.match[1] ?? ''
    const cancelled = deps.parts.orchestrator.cancel(ctx.ductor.key, entryId)
    // The lane's "discarded" event edits the indicator; if it already started, just say so.
    await ctx.answerCallbackQuery({ text: cancelled ? 'Cancelled.' : 'Too late: it already started or was dropped.' })
    // Nothing waits behind this button any more: a note a previous life of the service left (a crash
    // or restart with messages queued: they were replayed without it) or one whose message just
    // started. The note has no use left, so it goes instead of offering a Cancel that cannot work.
    if (!cancelled) await ctx.deleteMessage().catch(() => {})
  })
  feature.callbackQuery(SPENT_DATA, async (ctx) => {
    await ctx.answerCallbackQuery({ text: 'Already chosen.' })
  })
  return feature
}

import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'

/**
 * Any other text message: goes to the core as the user's message (commands of the core registry,
 * /stop and abort words included). Must be the last feature.
 */
export function textFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.on('message:text', async (ctx) => {
    const text = ctx.ductor.text
    if (text === '') return
    await deps.runAsUser(ctx.ductor, text, { replyTo: ctx.message.message_id, claim: ctx.ductor.claim })
  })
  return feature
}

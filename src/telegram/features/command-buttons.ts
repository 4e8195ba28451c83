import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'

/**
 * Buttons whose data is a command (`/status`, `/model codex` from the core's replies, /start's quick
 * actions): a press answers the callback and runs the command as the user's message.
 */
export function commandButtonsFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.callbackQuery(/^\/[a-z0-9_]+(?:\s[\s\S]*)?$/, async (ctx) => {
    await ctx.answerCallbackQuery()
    await deps.runAsUser(ctx.ductor, ctx.match[0], { claim: ctx.ductor.claim })
  })
  return feature
}

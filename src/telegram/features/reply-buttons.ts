import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { SPENT_DATA } from '../callback-data.ts'

/**
 * Buttons the agent wrote (`[button:Label]`, callback data = the label): a press answers the
 * callback, marks the choice on the message (the keyboard becomes "✅ Label"), and runs the label
 * as the user's next message through the lane (SPEC §4). Must come after every feature with its
 * own callback data.
 */
export function replyButtonsFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.on('callback_query:data', async (ctx) => {
    const data = ctx.callbackQuery.data
    const pressed = ctx.callbackQuery.message?.reply_markup?.inline_keyboard.flat().find((b) => 'callback_data' in b && b.callback_data === data)
    const label = pressed?.text ?? data
    await ctx.answerCallbackQuery()
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [[{ text: `✅ ${label}`, callback_data: SPENT_DATA }]] } })
      .catch((err: unknown) => { deps.logger.debug({ err }, 'could not mark the chosen button') })
    await deps.runAsUser(ctx.ductor, label, { claim: ctx.ductor.claim })
  })
  return feature
}

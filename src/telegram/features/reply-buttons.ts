import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { pressesTaken, SPENT_DATA } from '../callback-data.ts'

/**
 * Buttons the agent wrote (`[button:Label]`, callback data = the label): a press answers the
 * callback, marks the choice on the message (the keyboard becomes "✅ Label"), and runs the label
 * as the user's next message through the lane (SPEC §4). Must come after every feature with its
 * own callback data.
 *
 * One choice per message: a double tap (Telegram delivers both presses when the second comes before
 * the ✅ mark reaches the client) or a press of another button of a message whose choice is made is
 * answered "Already chosen." and sends nothing. The agent may be asked "Shall I pay it? [Yes] [No]":
 * it must not hear "Yes" twice, nor a late "No" after acting on "Yes". A message counts as chosen
 * when this process took a press of it, or when its keyboard (as Telegram sends it with the press)
 * is already the ✅ mark.
 */
export function replyButtonsFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const presses = pressesTaken()
  feature.on('callback_query:data', async (ctx) => {
    const data = ctx.callbackQuery.data
    const message = ctx.callbackQuery.message
    const keyboard = message?.reply_markup?.inline_keyboard.flat() ?? []
    const key = message !== undefined ? `${message.chat.id}:${message.message_id}` : undefined
    if (keyboard.some((b) => 'callback_data' in b && b.callback_data === SPENT_DATA) || (key !== undefined && !presses.take(key))) {
      await ctx.answerCallbackQuery({ text: 'Already chosen.' }).catch(() => {})
      return
    }
    const pressed = keyboard.find((b) => 'callback_data' in b && b.callback_data === data)
    const label = pressed?.text ?? data
    // A press replayed after a restart is too old to answer: the choice still goes to the agent.
    await ctx.answerCallbackQuery().catch(() => {})
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [[{ text: `✅ ${label}`, callback_data: SPENT_DATA }]] } })
      .catch((err: unknown) => { deps.logger.debug({ err }, 'could not mark the chosen button') })
    await deps.runAsUser(ctx.ductor, label, { claim: ctx.ductor.claim })
  })
  return feature
}

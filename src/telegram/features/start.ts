import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { authBlock, WELCOME_BUTTONS, WELCOME_PROMPTS, WELCOME_TEXT } from '../../core/command-table.ts'
import { pressesTaken, SPENT_DATA } from '../callback-data.ts'

/**
 * `/start` (as the Python version shows it): the command table's welcome, greeting the user by name,
 * with the auth block (which CLI is logged in, or what to run on the machine), the three quick-start
 * prompts (one per row) and the quick actions. A prompt button (`w:1`…`w:3`) sends its prompt to the
 * agent as the user's message — the only buttons here that start a run; the quick actions carry
 * commands of the table (/status, /memory, /new, /help), which commands.ts runs like typed ones.
 */
export function startFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  deps.telegramCommands.set('start', async (ctx) => {
    const name = ctx.from?.first_name ?? 'there'
    const logins = await deps.parts.cliLogins().catch(() => null)
    const auth = logins === null ? '' : `\n\n${authBlock(logins, deps.config())}`
    await deps.sendMarkdown(ctx.ductor, `Hi ${name}! ${WELCOME_TEXT}${auth}\n\n/model — switch models · /help — all commands`, {
      buttons: [
        ...WELCOME_PROMPTS.map((p) => [{ text: p.label, callback_data: p.data }]),
        ...WELCOME_BUTTONS.map((row) => row.map((b) => ({ text: b.label, callback_data: b.data })))
      ]
    })
  })
  // Each prompt of a welcome runs once: a double tap reaches us twice before the ✅ mark reaches the phone.
  const presses = pressesTaken()
  feature.callbackQuery(/^w:[0-9]+$/, async (ctx) => {
    const prompt = WELCOME_PROMPTS.find((p) => p.data === ctx.callbackQuery.data)
    if (prompt === undefined) return await ctx.answerCallbackQuery({ text: 'This button is from an older welcome; send /start for a new one.' }).catch(() => {})
    const message = ctx.callbackQuery.message
    const key = message === undefined ? null : `${message.chat.id}:${message.message_id}:${prompt.data}`
    if (key !== null && !presses.take(key)) return await ctx.answerCallbackQuery({ text: 'Already chosen.' }).catch(() => {})
    await ctx.answerCallbackQuery().catch(() => {})
    // The choice is marked on its button only, so the other prompts and the quick actions stay usable.
    const keyboard = ctx.callbackQuery.message?.reply_markup?.inline_keyboard
    if (keyboard !== undefined) {
      const marked = keyboard.map((row) => row.map((b) => 'callback_data' in b && b.callback_data === prompt.data ? { text: `✅ ${prompt.label}`, callback_data: SPENT_DATA } : b))
      await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: marked } }).catch((err: unknown) => { deps.logger.debug({ err }, 'could not mark the chosen prompt') })
    }
    await deps.runAsUser(ctx.ductor, prompt.prompt, { claim: ctx.ductor.claim })
  })
  return feature
}

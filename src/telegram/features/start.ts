import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { WELCOME_BUTTONS, WELCOME_TEXT } from '../../core/command-table.ts'

/**
 * `/start`: the command table's welcome, greeting the user by name. Its quick-action buttons carry
 * commands of the table (/status, /memory, /new, /help), which commands.ts runs like typed ones.
 */
export function startFeature (deps: BotDeps): Composer<BotContext> {
  deps.telegramCommands.set('start', async (ctx) => {
    const name = ctx.from?.first_name ?? 'there'
    await deps.sendMarkdown(ctx.ductor, `Hi ${name}! ${WELCOME_TEXT}`, {
      buttons: WELCOME_BUTTONS.map((row) => row.map((b) => ({ text: b.label, callback_data: b.data })))
    })
  })
  return new Composer<BotContext>()
}

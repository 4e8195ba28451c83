import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { parseCommand } from '../../core/commands.ts'

/**
 * Every command, typed or carried by a button (callback data starting with `/`), goes through the
 * one command table (src/core/command-table.ts, ADR 13): a command the adapter shows as a panel runs
 * its handler here (`deps.telegramCommands`, filled by the panel features); every other one goes to
 * the core as the user's message, where the table answers it. Only a text that is no ductor command
 * (e.g. a slash command of the agent's own) reaches the CLI, through the text feature.
 */
export function commandsFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.on('message:text', async (ctx, next) => {
    const command = parseCommand(ctx.ductor.text)
    const own = command === null ? undefined : deps.telegramCommands.get(command.name)
    if (command === null || own === undefined) return await next()
    await own(ctx, command.args)
  })
  feature.callbackQuery(/^\/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?(?:\s[\s\S]*)?$/, async (ctx) => {
    await ctx.answerCallbackQuery().catch(() => {})
    const data = ctx.callbackQuery.data
    const command = parseCommand(data)
    const own = command === null ? undefined : deps.telegramCommands.get(command.name)
    if (command !== null && own !== undefined) return await own(ctx, command.args)
    await deps.runAsUser(ctx.ductor, data, { claim: ctx.ductor.claim })
  })
  return feature
}

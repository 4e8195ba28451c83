import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'

/** `/restart`: says so, then stops gracefully with exit code 42 for the supervisor (SPEC §11). */
export function restartFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.command('restart', async (ctx) => {
    deps.logger.info({ chatId: ctx.ductor.chatId }, 'restart requested from Telegram')
    await deps.sendMarkdown(ctx.ductor, '🔄 Restarting… I will be back in a few seconds.').catch(() => [])
    deps.requestRestart()
  })
  return feature
}

import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { writeRestartMarker } from '../../ops/upgrade-notice.ts'

/** Why `/restart` (and the restart after an upgrade) is not done: it would only stop the service. */
export const NOT_RESTARTABLE = '⚠️ Not restarting: nothing would start ductor again. It runs without its supervisor (started with `ductor serve --no-supervisor`, or the supervisor was stopped), so a restart would only stop it. Restart it on the machine with `ductor restart`.'

/**
 * `/restart`: refused when nothing would start the service again (src/ops/restarter.ts); else says so, leaves a marker so the next process confirms "Restart completed" in this chat,
 * then stops gracefully with exit code 42 for the supervisor (SPEC §11). A
 * /restart older than this process (an update replayed from the inbox) is ignored, so a restart can
 * never loop.
 */
export function restartFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const startedAt = Math.floor(Date.now() / 1000)
  deps.telegramCommands.set('restart', async (ctx) => {
    if (ctx.message !== undefined && ctx.message.date < startedAt) {
      deps.logger.info({ chatId: ctx.ductor.chatId }, 'ignored a /restart sent before this process started')
      await deps.sendMarkdown(ctx.ductor, 'The service has restarted since you sent /restart; send it again if you still want one.')
      return
    }
    if (!deps.restartable()) {
      deps.logger.warn({ chatId: ctx.ductor.chatId }, '/restart refused: nothing would start ductor again (no supervisor, systemd or launchd)')
      await deps.sendMarkdown(ctx.ductor, NOT_RESTARTABLE)
      return
    }
    deps.logger.info({ chatId: ctx.ductor.chatId }, 'restart requested from Telegram')
    await deps.sendMarkdown(ctx.ductor, '🔄 Restarting… I will be back in a few seconds.').catch(() => [])
    await writeRestartMarker(deps.paths.state, { chat_id: ctx.ductor.chatId, requested_at: new Date().toISOString() })
      .catch((err: unknown) => { deps.logger.warn({ err }, 'could not write the restart marker') })
    deps.requestRestart()
  })
  return feature
}

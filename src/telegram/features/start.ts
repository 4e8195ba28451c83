import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'

/** `/start`: a welcome and quick-action buttons (each runs its command). */
export function startFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.command('start', async (ctx) => {
    const name = ctx.from?.first_name ?? 'there'
    const text = [
      `Hi ${name}! I am your ductor assistant: I answer by running Claude Code or Codex on your machine.`,
      '',
      'Just write to me. While I work you see my reply grow; send /stop (or just "stop") to interrupt.',
      'I remember what matters across sessions, and I can run scheduled jobs for you.'
    ].join('\n')
    await deps.sendMarkdown(ctx.ductor, text, {
      buttons: [
        [{ text: '📊 Status', callback_data: '/status' }, { text: '🧠 Memory', callback_data: '/memory' }],
        [{ text: '🆕 New session', callback_data: '/new' }, { text: '❓ Help', callback_data: '/help' }]
      ]
    })
  })
  return feature
}

import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'

/** `/help`: the command menu with one line each, and how the chat works. */
export function helpFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.command('help', async (ctx) => {
    await deps.sendMarkdown(ctx.ductor, helpText(deps))
  })
  return feature
}

export function helpText (deps: BotDeps): string {
  const lines = deps.commandList().map((c) => `/${c.command} — ${c.description}`)
  return [
    '**Commands**',
    ...lines,
    '',
    '**Tips**',
    '• A message sent while I am busy waits in line; tap Cancel to drop it.',
    '• "stop" alone (or /stop) interrupts me and drops what is waiting.',
    '• `@sonnet your question` answers one message with another model.',
    '• Send photos, documents or voice notes: I get the file and your caption.'
  ].join('\n')
}

import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { escapeHtml } from '../format/html.ts'
import { INFO_LINKS } from '../../core/command-table.ts'

/** `/info` (SPEC §4): what ductor is, which version runs, and where to go from here, with link buttons (as the Python version has them). */
export function infoFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  deps.telegramCommands.set('info', async (ctx) => {
    const commands = deps.commandList().map((c) => `/${c.command} — ${escapeHtml(c.description)}`)
    const config = deps.config()
    const html = [
      `<b>ductor ${escapeHtml(deps.version)}</b>`,
      'A self-hosted personal AI assistant: your messages run the official Claude Code or Codex CLI on your own machine, ' +
        'and the reply streams back here. It remembers you in one Markdown file and acts on its own through cron jobs, webhooks and a heartbeat.',
      '',
      `Default: ${escapeHtml(config.provider)} · <code>${escapeHtml(config.model)}</code> · home <code>${escapeHtml(deps.paths.home)}</code>`,
      'On the machine: <code>ductor status</code>, <code>ductor doctor</code>, <code>ductor cron list</code>, <code>ductor upgrade</code>.',
      '',
      '<b>Commands</b>',
      ...commands
    ].join('\n')
    await ctx.reply(html, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      reply_markup: { inline_keyboard: INFO_LINKS.map((row) => row.map((l) => ({ text: l.label, url: l.url }))) }
    })
  })
  return feature
}

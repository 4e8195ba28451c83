import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { chooseTarget } from '../../core/chat-run.ts'
import { escapeHtml } from '../format/html.ts'
import { readLogTail, scrubLine, shortLogLine } from '../panels/log-tail.ts'

const LOG_CHARS = 2800

/** `/diagnose` (SPEC §4): version, provider, model, session, and the recent log lines, secrets scrubbed. */
export function diagnoseFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  deps.telegramCommands.set('diagnose', async (ctx) => {
    const chatId = ctx.ductor.key
    const config = deps.config()
    const { provider, model } = chooseTarget({ config: deps.config }, chatId, {})
    const bucket = deps.parts.sessions.get(chatId)?.provider_sessions[provider]
    const clis = await deps.parts.providerStatus()
    let log = (await readLogTail(deps.paths.logs, 20)).map((l) => scrubLine(shortLogLine(l), deps.parts.mask)).join('\n')
    if (log.length > LOG_CHARS) log = `…${log.slice(-LOG_CHARS)}`
    const lines = [
      `<b>ductor ${escapeHtml(deps.version)}</b> · Node ${escapeHtml(process.version)} · ${escapeHtml(process.platform)}`,
      `Provider: <b>${escapeHtml(provider)}</b> · model <code>${escapeHtml(model)}</code>${provider === 'codex' ? ` · reasoning ${escapeHtml(config.reasoning_effort)}` : ''}`,
      `Session: ${bucket !== undefined && bucket.session_id !== '' ? `<code>${escapeHtml(bucket.session_id.slice(0, 8))}…</code>, ${bucket.message_count} messages` : 'none yet'}`,
      `Chat: ${deps.parts.orchestrator.isBusy(chatId) ? 'busy' : 'idle'} · active runs ${deps.parts.activeRuns()}`,
      `Claude Code: ${escapeHtml(clis.claude)} · Codex: ${escapeHtml(clis.codex)}`,
      `Time zone: ${escapeHtml(deps.parts.timezone())} · home <code>${escapeHtml(deps.paths.home)}</code>`,
      '',
      log === '' ? 'No log lines yet (logs/ductor.log is empty or missing).' : `<b>Recent log</b> (logs/ductor.log):\n<pre>${escapeHtml(log)}</pre>`
    ]
    await ctx.reply(lines.join('\n'), { parse_mode: 'HTML' })
  })
  return feature
}

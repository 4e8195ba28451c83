import { readFile } from 'node:fs/promises'
import type { Config } from '../config.ts'
import type { ProviderName } from '../providers/events.ts'
import type { SessionStore } from './session-store.ts'
import type { CommandRegistry, CommandReply, CommandButton } from './commands.ts'
import { providerOfModel, modelChoices, REASONING_EFFORTS, describeKnownModels, refuseCodexModel, type ReasoningEffort } from '../models.ts'
import { chooseTarget } from './chat-run.ts'
import { fallbackStatus, providerFallback, type ProviderLogins } from './fallback.ts'

export interface CoreCommandDeps {
  config: () => Config
  sessions: SessionStore
  isBusy: (chatId: string) => boolean
  memoryPath: string
  /** Whether each CLI is installed and logged in, in a few words. */
  providerStatus: () => Promise<Record<ProviderName, string>>
  queueDepth: (chatId: string) => number
  /**
   * `/model`: switches the default in `config/config.json` (`provider`, `model`, `reasoning_effort`)
   * and applies it at once, as the Python version does. Returns what still stands in the way (an
   * environment variable that sets the model at the next start), or null.
   */
  switchDefault: (next: { provider: ProviderName, model: string, reasoning_effort?: ReasoningEffort }) => Promise<string | null>
  /** The user's time zone (`user_timezone` → $TZ → host → UTC) for the times /status shows. */
  timezone?: () => string
  /** The Docker sandbox's /status line (null when it is off). */
  sandbox?: () => string | null
  /** Which CLIs are logged in, for the provider fallback's /status line. */
  logins?: () => Promise<ProviderLogins>
}

/** "1 message", "2 messages", "1,234 tokens". */
function plural (n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
}

/** An ISO time as "3 Dec 2026, 10:15:42" in `zone`; the text as it is when it is no time. */
export function localTime (iso: string, zone: string): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(t)
  } catch {
    return new Date(t).toISOString()
  }
}

const LABEL: Record<ProviderName, string> = { claude: 'Claude Code', codex: 'Codex' }
const MEMORY_SHOWN = 3500

/** Registers the core's own commands (SPEC §4): /new, /status, /model, /memory. /stop is built in. */
export function registerCoreCommands (registry: CommandRegistry, deps: CoreCommandDeps): void {
  registry.register({
    name: 'new',
    description: 'start a fresh session (the other provider\'s is kept)',
    quick: false,
    listed: true,
    handler: ({ chatId }) => {
      const { provider } = chooseTarget(deps, chatId, {})
      const had = deps.sessions.resetProvider(chatId, provider)
      return { text: had ? `Fresh ${LABEL[provider]} session. Memory is kept.` : `Starting fresh with ${LABEL[provider]}.` }
    }
  })
  registry.register({
    name: 'status',
    description: 'session, tokens, cost and provider status',
    quick: true,
    listed: true,
    handler: async ({ chatId }) => await statusReply(deps, chatId)
  })
  registry.register({
    name: 'model',
    description: 'show or switch the provider and model',
    quick: true,
    listed: true,
    handler: async ({ chatId, args }) => await modelCommand(deps, chatId, args)
  })
  registry.register({
    name: 'memory',
    description: 'show what I remember about you',
    quick: true,
    listed: true,
    handler: async () => {
      const text = (await readFile(deps.memoryPath, 'utf8').catch(() => '')).trim()
      if (text === '') return { text: 'My memory is empty so far.' }
      const shown = text.length > MEMORY_SHOWN ? `${text.slice(0, MEMORY_SHOWN)}\n\n… (${text.length - MEMORY_SHOWN} more characters in memory_system/MAINMEMORY.md)` : text
      return { text: shown }
    }
  })
}

async function statusReply (deps: CoreCommandDeps, chatId: string): Promise<CommandReply> {
  const { provider, model } = chooseTarget(deps, chatId, {})
  const entry = deps.sessions.get(chatId)
  const bucket = entry?.provider_sessions[provider]
  const auth = await deps.providerStatus()
  const fallback = deps.logins === undefined ? null : providerFallback(deps.config(), { provider, model }, await deps.logins().catch(() => null))
  const lines = [`*${LABEL[provider]}* · \`${model}\``]
  if (fallback !== null) lines.push(fallbackStatus(fallback))
  if (bucket !== undefined && bucket.session_id !== '') {
    lines.push(`Session: \`${bucket.session_id.slice(0, 8)}…\`, ${plural(bucket.message_count, 'message')}, ${plural(bucket.total_tokens, 'token')}, $${bucket.total_cost_usd.toFixed(4)}`)
    if (entry !== undefined) {
      // The session's own start (its bucket's, so /new starts a new one); older buckets have none.
      const started = typeof bucket['started_at'] === 'string' ? bucket['started_at'] : entry.created_at
      const zone = deps.timezone?.() ?? 'UTC'
      lines.push(`Started ${localTime(started, zone)}, last active ${localTime(entry.last_active, zone)} (${zone})`)
    }
  } else {
    lines.push('No session yet: the next message starts one.')
  }
  lines.push(deps.isBusy(chatId) ? `Busy: a reply is running${deps.queueDepth(chatId) > 0 ? `, ${deps.queueDepth(chatId)} queued` : ''}.` : 'Idle.')
  lines.push('', `Claude Code: ${auth.claude}`, `Codex: ${auth.codex}`)
  const sandbox = deps.sandbox?.() ?? null
  if (sandbox !== null) lines.push(sandbox)
  return { text: lines.join('\n') }
}

async function modelCommand (deps: CoreCommandDeps, chatId: string, args: string): Promise<CommandReply> {
  const config = deps.config()
  const current = { provider: config.provider, model: config.model }
  const [first = '', second = ''] = args.toLowerCase().split(/\s+/)
  const effortNote = current.provider === 'codex' ? ` (reasoning ${config.reasoning_effort})` : ''
  if (first === '') {
    return {
      text: `Default for chats, cron jobs, webhooks and the heartbeat: *${LABEL[current.provider]}* · \`${current.model}\`${effortNote}. Pick a provider:`,
      buttons: [[button('Claude Code', '/model claude'), button('Codex', '/model codex')]]
    }
  }
  if (first === 'claude' || first === 'codex') {
    return { text: `${LABEL[first]} models:`, buttons: [modelChoices(first).map((m) => button(m, `/model ${m}`))] }
  }
  const provider = providerOfModel(first)
  if (provider === null) return { text: `Unknown model "${first}". Known: ${describeKnownModels()}.` }
  const refused = provider === 'codex' ? refuseCodexModel(first) : null
  if (refused !== null) return { text: refused, buttons: [modelChoices('codex').map((m) => button(m, `/model ${m}`))] }
  if (second !== '' && !(REASONING_EFFORTS as readonly string[]).includes(second)) {
    return { text: `Unknown reasoning level "${second}"; use one of ${REASONING_EFFORTS.join(', ')}.` }
  }
  if (deps.isBusy(chatId)) return { text: 'A reply is still running: wait for it or /stop it, then switch the model.' }
  const blocked = await deps.switchDefault({ provider, model: first, ...(provider === 'codex' && second !== '' ? { reasoning_effort: second as ReasoningEffort } : {}) })
  const effort = provider === 'codex' ? deps.config().reasoning_effort : ''
  const reply: CommandReply = {
    text: `Switched the default to *${LABEL[provider]}* · \`${first}\`${effort !== '' ? ` (reasoning ${effort})` : ''}, saved in config.json: chats, cron jobs, webhooks and the heartbeat use it unless they set their own. Each provider keeps its own session.`
  }
  if (blocked !== null) reply.text += `\n${blocked}`
  if (provider === 'codex' && second === '') {
    reply.text += '\nReasoning level:'
    reply.buttons = [REASONING_EFFORTS.map((e) => button(e, `/model ${first} ${e}`))]
  }
  return reply
}

const button = (label: string, data: string): CommandButton => ({ label, data })

import type { CommandRegistry, CommandReply } from './commands.ts'

/**
 * THE command table (issue 22). Every ductor command is registered here or by the core
 * (core-commands.ts, /stop in the orchestrator), whichever way it arrives — typed in Telegram, a
 * button's callback data, `ductor chat`, `POST /api/chats/:id/messages` — so a ductor command never
 * reaches the CLI. Each has a text answer that works anywhere; the Telegram adapter shows some as
 * panels instead (src/telegram/features, keyed by the same names; ADR 13).
 */

/** The menu's order (setMyCommands, /help). Commands registered later follow in their own order. */
const COMMAND_ORDER = ['start', 'help', 'new', 'stop', 'status', 'model', 'memory', 'cron', 'skills', 'permissions', 'showfiles', 'diagnose', 'info', 'restart', 'upgrade'] as const

export interface CronJobLine {
  id: string
  title?: string
  schedule: string
  enabled: boolean
}

export interface SkillLine {
  name: string
  description: string
  /** Where the real folder is: 'ductor' (workspace/skills), 'claude' or 'codex'. */
  home: string
  /** The places that show it. */
  in: string[]
}

export interface CommandTableDeps {
  version: string
  home: string
  /** The cron jobs, for /cron outside Telegram. */
  cronJobs: () => CronJobLine[]
  /** The skills of workspace/skills, ~/.claude/skills and ~/.codex/skills (/skills). */
  skills: () => Promise<SkillLine[]>
}

const PLACE: Record<string, string> = { ductor: 'workspace', claude: 'Claude', codex: 'Codex' }

/** The text of /skills (and of `ductor skills`). */
function skillsText (skills: readonly SkillLine[]): string {
  if (skills.length === 0) return 'No skills yet. Ask me to write one ("make a skill for …"), or put a folder with a SKILL.md in `workspace/skills/`.'
  const lines = skills.map((s) => {
    const where = s.in.map((p) => PLACE[p] ?? p).join(', ')
    return `• \`${s.name}\`${s.description !== '' ? ` — ${s.description.length > 160 ? s.description.slice(0, 157) + '…' : s.description}` : ''} (${where}; lives in ${PLACE[s.home] ?? s.home})`
  })
  return [`**Skills** (${skills.length})`, ...lines, '', 'Synced between workspace/skills, ~/.claude/skills and ~/.codex/skills. Ask me to write a new one.'].join('\n')
}

/** The welcome's quick actions: each button carries a command of this table. */
export const WELCOME_BUTTONS = [
  [{ label: '📊 Status', data: '/status' }, { label: '🧠 Memory', data: '/memory' }],
  [{ label: '🆕 New session', data: '/new' }, { label: '❓ Help', data: '/help' }]
]

/**
 * The welcome's three quick-start prompts (as the Python version has them): a press sends the
 * prompt to the agent as the user's message, so these, and only these, start a run. Callback data
 * `w:1`…`w:3`; a button never carries the prompt itself.
 */
export const WELCOME_PROMPTS = [
  { data: 'w:1', label: '👋 What do you need to know about me?', prompt: 'Hey, I just set up ductor. What do you need to know about me so we can get started?' },
  { data: 'w:2', label: '✨ Show me what you can do!', prompt: 'What can you do? Walk me through your capabilities!' },
  { data: 'w:3', label: '🖥 Give me a system tour!', prompt: 'Give me a tour of the system you are running on!' }
] as const

/** Whether each CLI is installed and logged in, for the welcome's auth block. */
export type CliLogins = Record<'claude' | 'codex', { installed: boolean, loggedIn: boolean }>

/**
 * The welcome's auth block (what the Python version shows): which CLIs are logged in and the
 * default they answer with, or what to run on the machine when none is.
 */
export function authBlock (logins: CliLogins, defaults: { provider: string, model: string, reasoning_effort: string }): string {
  const claude = logins.claude.loggedIn
  const codex = logins.codex.loggedIn
  const model = defaults.provider === 'codex' ? `${defaults.provider} · \`${defaults.model}\` (${defaults.reasoning_effort})` : `${defaults.provider} · \`${defaults.model}\``
  const fix = (p: 'claude' | 'codex'): string => p === 'claude'
    ? (logins.claude.installed ? 'run `claude` on the machine and log in' : 'install it with `npm install -g @anthropic-ai/claude-code`, then run `claude` and log in')
    : (logins.codex.installed ? 'run `codex login` on the machine' : 'install it with `npm install -g @openai/codex`, then run `codex login`')
  if (claude && codex) return `✅ Claude Code and Codex are logged in. Default: ${model}.`
  const switchHint = (p: string): string => defaults.provider === p ? '' : `\nThe default is ${defaults.provider}, which is not logged in: switch with /model.`
  if (claude) return `✅ Claude Code is logged in. Default: ${model}.\nCodex is not: to use it too, ${fix('codex')}.${switchHint('claude')}`
  if (codex) return `✅ Codex is logged in. Default: ${model}.\nClaude Code is not: to use it too, ${fix('claude')}.${switchHint('codex')}`
  return `⚠️ No CLI is logged in yet, so I cannot answer. For Claude Code, ${fix('claude')}; for Codex, ${fix('codex')}. Then send /start again.`
}

export const WELCOME_TEXT = [
  'I am your ductor assistant: I answer by running Claude Code or Codex on your machine.',
  '',
  'Just write to me. While I work you see my reply grow; send /stop (or just "stop") to interrupt.',
  'I remember what matters across sessions, and I can run scheduled jobs for you.'
].join('\n')

/** /info's link buttons: they open a page; none carries callback data, so none can start anything here. */
export const INFO_LINKS = [
  [{ label: '📦 Package', url: 'https://www.npmjs.com/package/ductor' }, { label: '📝 Versions', url: 'https://www.npmjs.com/package/ductor?activeTab=versions' }],
  [{ label: '📖 Read me', url: 'https://www.npmjs.com/package/ductor#readme' }, { label: '🐍 Python ductor', url: 'https://github.com/PleasePrompto/ductor' }]
] as const

/** The listed commands in menu order, with their descriptions. */
export function listedCommands (registry: CommandRegistry): Array<{ command: string, description: string }> {
  const order: readonly string[] = COMMAND_ORDER
  const rank = (name: string): number => { const i = order.indexOf(name); return i === -1 ? order.length : i }
  return registry.list()
    .filter((c) => c.listed === true && c.description !== '')
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c.name) - rank(b.c.name) || a.i - b.i)
    .map(({ c }) => ({ command: c.name, description: c.description }))
}

function helpText (registry: CommandRegistry): string {
  return [
    '**Commands**',
    ...listedCommands(registry).map((c) => `/${c.command} — ${c.description}`),
    '',
    '**Tips**',
    '• A message sent while I am busy waits in line; tap Cancel to drop it.',
    '• "stop" alone (or /stop) interrupts me and drops what is waiting.',
    '• `@sonnet your question` answers one message with another model.',
    '• Send photos, documents or voice notes: I get the file and your caption.'
  ].join('\n')
}

const onMachine = (what: string, how: string): CommandReply => ({ text: `${what} is a Telegram panel. Here: ${how}` })

export function registerCommandTable (registry: CommandRegistry, deps: CommandTableDeps): void {
  const add = (name: string, description: string, handler: () => CommandReply, quick = true): void => {
    registry.register({ name, description, quick, listed: true, handler })
  }
  add('start', 'welcome and quick actions', () => ({ text: `Hi! ${WELCOME_TEXT}`, buttons: WELCOME_BUTTONS }))
  add('help', 'what I can do', () => ({ text: helpText(registry) }))
  add('cron', 'scheduled jobs: list, enable, disable', () => {
    const jobs = deps.cronJobs()
    if (jobs.length === 0) return { text: 'No scheduled jobs. Add one with `ductor cron add` or POST /api/cron.' }
    const lines = jobs.map((j) => `${j.enabled ? '✅' : '⏸'} \`${j.id}\` ${j.title !== undefined && j.title !== '' ? `${j.title} ` : ''}(${j.schedule})`)
    return { text: [`**Scheduled jobs** (${jobs.length})`, ...lines, '', 'Change them with `ductor cron edit` or PATCH /api/cron/:id.'].join('\n') }
  })
  registry.register({ name: 'skills', description: 'the skills both CLIs can use', quick: true, listed: true, handler: async () => ({ text: skillsText(await deps.skills()) }) })
  add('permissions', 'tool approvals: this chat\'s mode, always-allowed rules', () => onMachine('/permissions', 'GET /api/approvals/rules lists the rules; DELETE /api/approvals/rules/:id revokes one (docs/approvals.md).'))
  add('showfiles', 'browse the files in my home', () => onMachine('/showfiles', `the files are in \`${deps.home}\` on the machine.`))
  add('diagnose', 'version, provider, model and recent log lines', () => onMachine('/diagnose', `ductor ${deps.version}; run \`ductor doctor\` and \`ductor service logs\` on the machine, or GET /api/status.`))
  add('info', 'about this bot', () => ({
    text: `**ductor ${deps.version}**\nA self-hosted personal AI assistant: your messages run the official Claude Code or Codex CLI on your own machine. It remembers you in one Markdown file and acts on its own through cron jobs, webhooks and a heartbeat.\n\n${helpText(registry)}`
  }))
  add('restart', 'restart the service', () => ({ text: 'Restarting works from Telegram (/restart). Here: restart the service where it runs (`ductor service status` shows how).' }), false)
  add('upgrade', 'check for a newer version and upgrade', () => ({ text: `ductor ${deps.version}. Upgrade from Telegram (/upgrade) or run \`ductor upgrade\` on the machine.` }), false)
}

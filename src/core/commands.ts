/**
 * The command registry (SPEC §4, §5). The core registers /new, /stop, /status, /model and /memory;
 * adapters add their own (/start, /help, /showfiles…). Quick commands bypass the chat lane.
 */
export interface CommandButton { label: string, data: string }

export interface CommandReply {
  /** Markdown text for the user. */
  text: string
  /** Rows of inline buttons (adapters that cannot show buttons ignore them). */
  buttons?: CommandButton[][]
}

export interface CommandContext {
  chatId: string
  /** Everything after the command name, trimmed. */
  args: string
  /** Which ingress asked: 'telegram', 'api', … */
  origin: string
}

export interface Command {
  name: string
  description: string
  /** Runs at once, even while the chat is busy (does not wait in the lane). */
  quick: boolean
  /** Listed in the bot's command menu (setMyCommands) and /help. */
  listed?: boolean
  handler: (ctx: CommandContext) => Promise<CommandReply> | CommandReply
}

export interface CommandRegistry {
  register: (command: Command) => void
  get: (name: string) => Command | undefined
  list: () => Command[]
}

export function createCommandRegistry (): CommandRegistry {
  const commands = new Map<string, Command>()
  return {
    register (command) {
      commands.set(command.name, command)
    },
    get: (name) => commands.get(name),
    list: () => [...commands.values()]
  }
}

/** `/cmd@bot args` → `{ name: 'cmd', args }`; null when the text is not a command. */
export function parseCommand (text: string): { name: string, args: string } | null {
  const m = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim())
  if (m === null) return null
  return { name: (m[1] ?? '').toLowerCase(), args: (m[2] ?? '').trim() }
}

/**
 * Bare abort words (SPEC §4): a message that is only one of these stops the chat's run, and is never
 * sent to the agent, even when nothing runs. The Python version's words, plus a few more.
 */
const ABORT_WORDS: ReadonlySet<string> = new Set(['stop', 'abort', 'cancel', 'halt', 'quit', 'exit', 'interrupt', 'wait', 'stopp', 'abbrechen', 'abbruch', 'warte'])

export function isAbortWord (text: string): boolean {
  return ABORT_WORDS.has(text.trim().toLowerCase().replace(/[.!]+$/, ''))
}

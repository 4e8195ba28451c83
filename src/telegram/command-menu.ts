import type { CommandRegistry } from '../core/commands.ts'
import type { BotCommandEntry } from './bot-deps.ts'

/**
 * The bot's command menu (setMyCommands) and /help, in this order. Commands the core registry
 * lists (/new, /status, /model, /memory) take their descriptions from it; the rest are the
 * adapter's own features (panels included).
 */
const menu: Array<[string, string]> = [
  ['start', 'welcome and quick actions'],
  ['help', 'what I can do'],
  ['new', ''],
  ['stop', 'stop the running reply and drop the queue'],
  ['status', ''],
  ['model', ''],
  ['memory', ''],
  ['cron', 'scheduled jobs: list, enable, disable'],
  ['showfiles', 'browse the files in my home'],
  ['diagnose', 'version, provider, model and recent log lines'],
  ['info', 'about this bot'],
  ['restart', 'restart the service'],
  ['upgrade', 'check for a newer version and upgrade']
]

export function commandMenu (registry: CommandRegistry): BotCommandEntry[] {
  const out: BotCommandEntry[] = []
  for (const [command, description] of menu) {
    const fromCore = registry.get(command)
    const text = fromCore?.description ?? description
    if (text !== '') out.push({ command, description: text })
  }
  for (const c of registry.list()) {
    if (c.listed === true && !out.some((e) => e.command === c.name)) out.push({ command: c.name, description: c.description })
  }
  return out
}

import type { CommandRegistry } from '../core/commands.ts'
import { listedCommands } from '../core/command-table.ts'
import type { BotCommandEntry } from './bot-deps.ts'

/** The bot's command menu (setMyCommands) and /help: the command table's listed commands, in its order. */
export function commandMenu (registry: CommandRegistry): BotCommandEntry[] {
  return listedCommands(registry)
}

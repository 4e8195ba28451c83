import { Command, CommanderError } from 'commander'
import { readVersion } from '../version.ts'
import { UserFileError } from '../errors.ts'
import { serveCommand } from './serve.ts'
import { initCommand } from './init.ts'
import { statusCommand } from './status.ts'
import { runsCommand, sessionsCommand, memoryCommand, chatCommand } from './client-commands.ts'
import { serviceCommand } from './service.ts'
import { cronCommand } from './cron-commands.ts'
import { webhookCommand } from './webhook-commands.ts'
import { mediaCommand } from './media-commands.ts'
import { skillsCommand } from './skills-command.ts'
import { doctorCommand } from './doctor.ts'
import { upgradeCommand } from './upgrade.ts'
import { stopCommand, restartCommand, uninstallCommand, resetCommand } from './lifecycle.ts'
import { needsSetup } from './init.ts'
import { withoutPackageBins } from '../providers/resolve-binary.ts'
import { packageRoot } from '../ops/service-spec.ts'
import { editDistance } from '../edit-distance.ts'

/** A bare `ductor` in a terminal on a home without a bot token starts the setup wizard (then serves). */
async function wantsWizard (): Promise<boolean> {
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) return false
  return await needsSetup(process.env)
}

/** Builds the `ductor` command. Each subcommand lives in its own file and registers itself here. */
export function buildCli (): Command {
  const program = new Command('ductor')
    .description('ductor: your personal AI assistant in Telegram, powered by the Claude Code and Codex CLIs')
    .version(readVersion(), '-V, --version', 'print the version')
    .option('-v, --verbose', 'debug logging (sets DUCTOR_LOG_LEVEL=DEBUG for the service)')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  program.addCommand(serveCommand(), { isDefault: true })
  program.addCommand(initCommand())
  program.addCommand(statusCommand())
  program.addCommand(chatCommand())
  program.addCommand(runsCommand())
  program.addCommand(sessionsCommand())
  program.addCommand(memoryCommand())
  program.addCommand(cronCommand())
  program.addCommand(webhookCommand())
  program.addCommand(mediaCommand())
  program.addCommand(skillsCommand())
  program.addCommand(serviceCommand())
  program.addCommand(doctorCommand())
  program.addCommand(upgradeCommand())
  program.addCommand(stopCommand())
  program.addCommand(restartCommand())
  program.addCommand(uninstallCommand())
  program.addCommand(resetCommand())
  // -v/--verbose (as in the Python version) turns on debug logs for whatever the command starts.
  program.hook('preAction', (cmd) => {
    if (cmd.opts<{ verbose?: boolean }>().verbose === true) process.env['DUCTOR_LOG_LEVEL'] = 'DEBUG'
  })
  return program
}

/**
 * `ductor foo`: serve is the default command, so commander would answer "too many arguments for
 * 'serve'". A first word that is no command is named as such, with the nearest command.
 */
export function unknownCommandMessage (program: Command, word: string): string | null {
  if (word.startsWith('-')) return null
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()])
  if (names.includes(word) || word === 'help') return null
  const [nearest] = names.map((name) => ({ name, d: editDistance(word.toLowerCase(), name) })).sort((a, b) => a.d - b.d)
  const close = nearest !== undefined && (nearest.d <= 2 || nearest.name.startsWith(word.toLowerCase()) || word.toLowerCase().startsWith(nearest.name))
  return `unknown command '${word}'${close ? ` (did you mean 'ductor ${nearest.name}'?)` : ''}; the commands are: ${names.join(', ')} (ductor --help)`
}

/** Runs the CLI; exits non-zero with one clear line on failure, never a stack trace. */
export async function main (argv: string[]): Promise<void> {
  // Under `npm start` PATH begins with node_modules/.bin: the CLIs found there are test copies.
  const path = withoutPackageBins(process.env['PATH'], packageRoot())
  if (path !== undefined) process.env['PATH'] = path
  const program = buildCli()
  try {
    const unknown = argv[2] === undefined ? null : unknownCommandMessage(program, argv[2])
    if (unknown !== null) {
      process.stderr.write(`ductor: ${unknown}\n`)
      process.exit(1)
    }
    if (argv.length === 2 && await wantsWizard()) {
      process.stdout.write('ductor has no Telegram bot token yet: let\'s set it up (Ctrl-C stops; `ductor serve` starts without this).\n')
      await program.parseAsync([...argv, 'init'])
      process.stdout.write('Starting the service (Ctrl-C stops it)…\n')
      await buildCli().parseAsync([...argv, 'serve'])
      return
    }
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode)
    if ((err as Error).name === 'ExitPromptError') {
      process.stderr.write('ductor: cancelled; nothing was changed\n')
      process.exit(130)
    }
    process.stderr.write(`ductor: ${(err as Error).message}\n`)
    // A file the user wrote that cannot be read is a configuration error: exit 2, like the service.
    process.exit(err instanceof UserFileError ? 2 : 1)
  }
}

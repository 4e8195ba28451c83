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
import { doctorCommand } from './doctor.ts'
import { upgradeCommand } from './upgrade.ts'

/** Builds the `ductor` command. Each subcommand lives in its own file and registers itself here. */
export function buildCli (): Command {
  const program = new Command('ductor')
    .description('ductor: your personal AI assistant in Telegram, powered by the Claude Code and Codex CLIs')
    .version(readVersion(), '-v, --version', 'print the version')
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
  program.addCommand(serviceCommand())
  program.addCommand(doctorCommand())
  program.addCommand(upgradeCommand())
  return program
}

/** Runs the CLI; exits non-zero with one clear line on failure, never a stack trace. */
export async function main (argv: string[]): Promise<void> {
  const program = buildCli()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode)
    process.stderr.write(`ductor: ${(err as Error).message}\n`)
    // A file the user wrote that cannot be read is a configuration error: exit 2, like the service.
    process.exit(err instanceof UserFileError ? 2 : 1)
  }
}

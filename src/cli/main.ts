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
import { processIo, type CliIo } from './io.ts'

/** A bare `ductor` in a terminal on a home without a bot token starts the setup wizard (then serves). */
async function wantsWizard (io: CliIo): Promise<boolean> {
  if (io.stdin.isTTY !== true || io.stdout.isTTY !== true) return false
  return await needsSetup(io.env)
}

/** Builds the `ductor` command. Each subcommand lives in its own file and registers itself here. */
export function buildCli (io: CliIo = processIo()): Command {
  const program = new Command('ductor')
    .description('ductor: your personal AI assistant in Telegram, powered by the Claude Code and Codex CLIs')
    .version(readVersion(), '-V, --version', 'print the version')
    .option('-v, --verbose', 'debug logging (sets DUCTOR_LOG_LEVEL=DEBUG for the service)')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  program.addCommand(serveCommand(io), { isDefault: true })
  program.addCommand(initCommand(io))
  program.addCommand(statusCommand(io))
  program.addCommand(chatCommand(io))
  program.addCommand(runsCommand(io))
  program.addCommand(sessionsCommand(io))
  program.addCommand(memoryCommand(io))
  program.addCommand(cronCommand(io))
  program.addCommand(webhookCommand(io))
  program.addCommand(mediaCommand(io))
  program.addCommand(skillsCommand(io))
  program.addCommand(serviceCommand(io))
  program.addCommand(doctorCommand(io))
  program.addCommand(upgradeCommand(io))
  program.addCommand(stopCommand(io))
  program.addCommand(restartCommand(io))
  program.addCommand(uninstallCommand(io))
  program.addCommand(resetCommand(io))
  // -v/--verbose (as in the Python version) turns on debug logs for whatever the command starts.
  program.hook('preAction', (cmd) => {
    if (cmd.opts<{ verbose?: boolean }>().verbose === true) io.env['DUCTOR_LOG_LEVEL'] = 'DEBUG'
  })
  // Every command writes to the given streams and throws instead of exiting (run() turns it into a code).
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (text) => { io.stdout.write(text) }, writeErr: (text) => { io.stderr.write(text) } })
    cmd.commands.forEach(configure)
  }
  configure(program)
  return program
}

/**
 * `ductor foo`: serve is the default command, so commander would answer "too many arguments for
 * 'serve'". A first word that is no command is named as such, with the nearest command.
 */
function unknownCommandMessage (program: Command, word: string): string | null {
  if (word.startsWith('-')) return null
  const names = commandNames(program)
  if (names.includes(word) || word === 'help') return null
  return notACommand(program, [], word)
}

const commandNames = (cmd: Command): string[] => cmd.commands.flatMap((c) => [c.name(), ...c.aliases()])
const findCommand = (cmd: Command, word: string): Command | undefined => cmd.commands.find((c) => c.name() === word || c.aliases().includes(word))

/** "unknown command 'x' (did you mean …?); the commands are: …", for `ductor <path…> x`. */
function notACommand (parent: Command, path: readonly string[], word: string): string {
  const names = commandNames(parent)
  const prefix = ['ductor', ...path].join(' ')
  const [nearest] = names.map((name) => ({ name, d: editDistance(word.toLowerCase(), name) })).sort((a, b) => a.d - b.d)
  const close = nearest !== undefined && (nearest.d <= 2 || nearest.name.startsWith(word.toLowerCase()) || word.toLowerCase().startsWith(nearest.name))
  const of = path.length === 0 ? '' : ` of '${prefix}'`
  return `unknown command '${word}'${of}${close ? ` (did you mean '${prefix} ${nearest.name}'?)` : ''}; the commands are: ${names.join(', ')} (${prefix} --help)`
}

/**
 * `ductor help <command…>` (or `ductor cron help <command…>`): commander prints the general help for a
 * command it does not know, without saying so, and only the first level for a known one
 * (`help cron list` showed cron's). The words after `help` name a command or are an error; a known
 * one becomes `<command…> --help`. Null when the words ask no such thing.
 */
function helpTopic (program: Command, words: readonly string[]): { argv: string[] } | { error: string } | null {
  let cmd = program
  const path: string[] = []
  let i = 0
  for (; i < words.length; i++) {
    const sub = findCommand(cmd, words[i] ?? '')
    if (sub === undefined) break
    cmd = sub
    path.push(sub.name())
  }
  if (words[i] !== 'help' || cmd.commands.length === 0) return null
  const topics = words.slice(i + 1)
  if (topics.length === 0 || topics.some((w) => w.startsWith('-'))) return null
  for (const topic of topics) {
    if (topic === 'help') continue
    const sub = findCommand(cmd, topic)
    if (sub === undefined) return { error: notACommand(cmd, path, topic) }
    cmd = sub
    path.push(sub.name())
  }
  return { argv: [...path, '--help'] }
}

/**
 * Runs the CLI with the given environment and streams and answers its exit code: one clear line on
 * failure, never a stack trace. `ductor serve` keeps running after this returns.
 */
export async function run (argv: string[], io: CliIo): Promise<number> {
  // Under `npm start` PATH begins with node_modules/.bin: the CLIs found there are test copies.
  const path = withoutPackageBins(io.env['PATH'], packageRoot())
  if (path !== undefined) io.env['PATH'] = path
  const program = buildCli(io)
  try {
    const unknown = argv[2] === undefined ? null : unknownCommandMessage(program, argv[2])
    if (unknown !== null) {
      io.stderr.write(`ductor: ${unknown}\n`)
      return 1
    }
    const help = helpTopic(program, argv.slice(2))
    if (help !== null && 'error' in help) {
      io.stderr.write(`ductor: ${help.error}\n`)
      return 1
    }
    if (help !== null) argv = [...argv.slice(0, 2), ...help.argv]
    if (argv.length === 2 && await wantsWizard(io)) {
      io.stdout.write('ductor has no Telegram bot token yet: let\'s set it up (Ctrl-C stops; `ductor serve` starts without this).\n')
      await program.parseAsync([...argv, 'init'])
      io.stdout.write('Starting the service (Ctrl-C stops it)…\n')
      await buildCli(io).parseAsync([...argv, 'serve'])
      return io.exitCode ?? 0
    }
    await program.parseAsync(argv)
    return io.exitCode ?? 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    if ((err as Error).name === 'ExitPromptError') {
      io.stderr.write('ductor: cancelled; nothing was changed\n')
      return 130
    }
    io.stderr.write(`ductor: ${(err as Error).message}\n`)
    // A file the user wrote that cannot be read is a configuration error: exit 2, like the service.
    return err instanceof UserFileError ? 2 : 1
  }
}

/** The `ductor` binary: the process's own environment and streams; a failure exits at once. */
export async function main (argv: string[]): Promise<void> {
  const io = processIo()
  const code = await run(argv, io)
  if (code !== 0) process.exit(code)
}

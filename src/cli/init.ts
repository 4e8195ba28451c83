import { Command, Option } from 'commander'
import { UserFileError } from '../errors.ts'
import { mkdir } from 'node:fs/promises'
import { resolveHome, resolvePaths } from '../home/paths.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { loadConfig, assertValid, defaultModelOf, BOT_TOKEN_PATTERN, type Config } from '../config.ts'
import { isValidTimezone } from '../tz.ts'
import { providerOfModel, describeKnownModels, modelChoices } from '../models.ts'
import { readConfigReadOnly } from '../ops/config-read.ts'
import { processFacts } from '../ops/process-context.ts'
import { createCommandRunner } from '../ops/runner.ts'
import { createServiceManager } from '../ops/service-manager.ts'
import { writeJsonAtomic } from '../atomic-json.ts'
import type { CliIo } from './io.ts'

interface InitOptions {
  token?: string
  userId?: string
  provider?: 'claude' | 'codex'
  model?: string
  timezone?: string
}

/** What @BotFather gives: the bot's numeric id, a colon, 35 characters (30 or more accepted). */

/** The order of piped answers (`printf '%s\n' TOKEN ID claude '' Europe/Berlin | ductor init`): the wizard's order. */
const PIPED_ANSWERS = ['token', 'userId', 'provider', 'model', 'timezone'] as const

/**
 * Whether a bare `ductor` should start the setup wizard: no bot token in the home's config nor in
 * DUCTOR_TELEGRAM_TOKEN. A config that cannot be read is left to `ductor serve` to report.
 */
export async function needsSetup (env: NodeJS.ProcessEnv): Promise<boolean> {
  if ((env['DUCTOR_TELEGRAM_TOKEN'] ?? '') !== '') return false
  const reading = await readConfigReadOnly(resolveHome(env), env)
  return reading.status === 'ok' && reading.config.telegram_token === ''
}

/**
 * `ductor init`: writes config/config.json with the bot token, the allowed user, the default provider
 * and model, and the time zone. Asks on a terminal; reads one answer per line when they are piped
 * in; `--non-interactive` takes only the flags. Says what changed, and whether the running service
 * still has to be restarted to use it.
 */
export function initCommand (io: CliIo): Command {
  return new Command('init')
    .description('set up the home: Telegram bot token, your user id, default provider, model and time zone')
    .option('--token <token>', 'Telegram bot token from @BotFather')
    .option('--user-id <ids>', 'your Telegram user id (comma-separated for several)')
    .addOption(new Option('--provider <name>', 'default CLI').choices(['claude', 'codex']))
    .option('--model <name>', `default model (${describeKnownModels()})`)
    .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Berlin')
    .option('--non-interactive', 'never prompt nor read stdin; use the flags and keep the rest')
    .option('--restart', 'restart the background service (ductor service) afterwards when it runs')
    .addHelpText('after', '\nPiped answers, one per line, empty = keep: token, user id, provider, model, time zone\n' +
      '  printf \'%s\\n\' "$BOT_TOKEN" 123456789 claude "" Europe/Berlin | ductor init\n')
    .action(async (opts: InitOptions & { nonInteractive?: boolean, restart?: boolean }) => {
      const home = resolveHome(io.env)
      const given = pickAnswers(opts)
      let answers: InitOptions
      if (opts.nonInteractive === true) {
        answers = given
      } else if (io.stdin.isTTY === true) {
        answers = await ask(await currentConfig(home), given)
      } else {
        const text = await readStdin(io.stdin)
        answers = { ...parsePiped(text), ...given }
        if (text === '' && Object.keys(answers).length === 0) {
          throw new Error('no answers: stdin is not a terminal and nothing was piped in. Run `ductor init` in a terminal, ' +
            'pipe the answers (one per line: token, user id, provider, model, time zone), or give flags: ductor init --non-interactive --token … --user-id …')
        }
      }
      await mkdir(home, { recursive: true })
      const { fileConfig, path } = await loadConfig({ home, env: {}, then: 'ductor init changed nothing; fix the file (or move it away) and run ductor init again' })
      const config = applyAnswers(fileConfig, answers)
      const changed = changedKeys(fileConfig, config)
      if (changed.length > 0) await writeJsonAtomic(path, config)
      const lines = [changed.length > 0 ? `Wrote ${path}: set ${changed.join(', ')}.` : `Nothing changed in ${path}.`]
      if (config.telegram_token === '') lines.push('No bot token yet: Telegram stays off until you set one (ductor init --token …, from @BotFather).')
      else if (config.allowed_user_ids.length === 0) lines.push('No allowed user yet: the bot answers nobody until you add your id (ductor init --user-id …, ask @userinfobot).')
      lines.push(...await runningServiceNote(io.env, home, changed.length > 0, opts.restart === true))
      io.stdout.write(lines.join('\n') + '\n')
    })
}

function pickAnswers (opts: InitOptions): InitOptions {
  const answers: InitOptions = {}
  for (const key of PIPED_ANSWERS) {
    if (opts[key] !== undefined) (answers as Record<string, string>)[key] = opts[key]
  }
  return answers
}

async function currentConfig (home: string): Promise<Config> {
  const reading = await readConfigReadOnly(home, {})
  // A config.json that cannot be used: exit 2 and nothing written (ADR 0017).
  if (reading.status === 'invalid') throw new UserFileError(reading.path, reading.message)
  return reading.config
}

async function readStdin (stdin: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  stdin.setEncoding('utf8')
  for await (const chunk of stdin) text += chunk as string
  return text
}

/** One answer per line in the wizard's order; an empty line keeps the current value. */
function parsePiped (text: string): InitOptions {
  const values = text.split(/\r?\n/).map((l) => l.trim())
  const answers: InitOptions = {}
  PIPED_ANSWERS.forEach((key, i) => {
    const value = values[i]
    if (value === undefined || value === '') return
    if (key === 'provider' && value !== 'claude' && value !== 'codex') throw new Error(`line 3 (provider): "${value}" is not a provider; use claude or codex`)
    ;(answers as Record<string, string>)[key] = value
  })
  return answers
}

/** Applies the answers to a config and validates the result; throws a clear error for a bad value. */
function applyAnswers (base: Config, answers: InitOptions): Config {
  const config = structuredClone(base)
  if (answers.token !== undefined && answers.token !== '') {
    if (!BOT_TOKEN_PATTERN.test(answers.token)) throw new Error('--token: this is not a bot token; @BotFather gives one like 123456789:AAH… (digits, a colon, 35 letters, digits, - or _)')
    config.telegram_token = answers.token
  }
  if (answers.userId !== undefined && answers.userId !== '') {
    config.allowed_user_ids = answers.userId.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      if (!/^\d+$/.test(s)) throw new Error(`--user-id: "${s}" is not a Telegram user id; expected digits (ask @userinfobot for yours)`)
      return Number(s)
    })
  }
  if (answers.provider !== undefined) config.provider = answers.provider
  if (answers.model !== undefined && answers.model !== '') {
    const owner = providerOfModel(answers.model)
    if (owner === null) throw new Error(`--model: "${answers.model}" is not a model ductor knows; ${describeKnownModels()}`)
    if (owner !== config.provider) {
      throw new Error(`--model: "${answers.model}" is a ${owner === 'claude' ? 'Claude' : 'Codex'} model, but the provider is ${config.provider}; ` +
        `use one of ${modelChoices(config.provider).join(', ')}, or --provider ${owner}`)
    }
    config.model = answers.model
  } else if (providerOfModel(config.model) !== null && providerOfModel(config.model) !== config.provider) {
    // A new provider without a model: its default, never the other provider's model.
    config.model = defaultModelOf(config.provider)
  }
  if (answers.timezone !== undefined && answers.timezone !== '') {
    if (!isValidTimezone(answers.timezone)) throw new Error(`--timezone: "${answers.timezone}" is not an IANA time zone, e.g. Europe/Berlin or America/New_York`)
    config.user_timezone = answers.timezone
  }
  assertValid(config, (p) => `config.json: ${p}`)
  return config
}

function changedKeys (before: Config, after: Config): string[] {
  const keys = ['telegram_token', 'allowed_user_ids', 'provider', 'model', 'user_timezone'] as const
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
}

/** A running service keeps its settings (Telegram starts with the token it had): say so, or restart it. */
async function runningServiceNote (env: NodeJS.ProcessEnv, home: string, changed: boolean, restart: boolean): Promise<string[]> {
  if (!changed) return []
  const paths = resolvePaths({ ...env, DUCTOR_HOME: home })
  const holder = await readPidFile(paths.pidFile)
  if (holder?.alive !== true) return ['Start the service with: ductor serve (or ductor service install to keep it running).']
  let manager
  try {
    manager = createServiceManager({ ...processFacts(env), env, runner: createCommandRunner({ env }), logDir: paths.logs })
  } catch {}
  const status = await manager?.status().catch(() => null) ?? null
  const asService = status?.active === true && status.pid === holder.pid
  if (asService && restart && manager !== undefined) {
    await manager.restart()
    return ['Restarted the ductor service: it now uses the new settings.']
  }
  return [`ductor is running (pid ${holder.pid}) with the old settings; they apply after a restart: ` +
    (asService ? 'ductor service restart (or ductor init --restart).' : 'stop it (Ctrl-C, or /restart in Telegram) and start ductor serve again.')]
}

async function ask (config: Config, given: InitOptions): Promise<InitOptions> {
  const { input, password, select } = await import('@inquirer/prompts')
  const token = given.token ?? await password({
    message: 'Telegram bot token (from @BotFather; empty to keep the current one):',
    mask: '*',
    validate: (v) => v === '' || BOT_TOKEN_PATTERN.test(v) || 'That does not look like a bot token (123456789:AAH…)'
  })
  const userId = given.userId ?? await input({
    message: 'Your Telegram user id (ask @userinfobot):',
    default: config.allowed_user_ids.join(','),
    validate: (v) => /^\s*(\d+\s*(,\s*\d+\s*)*)?$/.test(v) || 'Digits, comma-separated'
  })
  const provider = given.provider ?? await select({
    message: 'Default CLI:',
    default: config.provider,
    choices: [{ name: 'Claude Code (claude)', value: 'claude' as const }, { name: 'Codex (codex)', value: 'codex' as const }]
  })
  const choices = modelChoices(provider)
  const model = given.model ?? await select({
    message: 'Default model:',
    default: choices.includes(config.model) ? config.model : defaultModelOf(provider),
    choices: choices.map((m) => ({ name: m, value: m }))
  })
  const hostZone = Intl.DateTimeFormat().resolvedOptions().timeZone
  const timezone = given.timezone ?? await input({
    message: 'Your time zone:',
    default: config.user_timezone !== '' ? config.user_timezone : hostZone,
    validate: (v) => isValidTimezone(v) || 'An IANA zone such as Europe/Berlin'
  })
  return { token, userId, provider, model, timezone }
}

import { Command, Option } from 'commander'
import { mkdir } from 'node:fs/promises'
import { resolveHome } from '../home/paths.ts'
import { loadConfig, assertValid, isValidTimeZone, type Config } from '../config.ts'
import { writeJsonAtomic } from '../atomic-json.ts'

interface InitOptions {
  token?: string
  userId?: string
  provider?: 'claude' | 'codex'
  model?: string
  timezone?: string
  interactive: boolean
}

const TOKEN_PATTERN = /^\d{5,}:[A-Za-z0-9_-]{30,}$/

/**
 * `ductor init`: writes config/config.json with the bot token, the allowed user, the default provider
 * and the time zone. Asks for what is missing when run on a terminal; `--non-interactive` for scripts.
 */
export function initCommand (): Command {
  return new Command('init')
    .description('set up the home: Telegram bot token, your user id, default provider and time zone')
    .option('--token <token>', 'Telegram bot token from @BotFather')
    .option('--user-id <ids>', 'your Telegram user id (comma-separated for several)')
    .addOption(new Option('--provider <name>', 'default CLI').choices(['claude', 'codex']))
    .option('--model <name>', 'default model (claude: opus, sonnet, haiku)')
    .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Berlin')
    .option('--non-interactive', 'never prompt; use the flags and keep the rest')
    .action(async (opts: InitOptions & { nonInteractive?: boolean }) => {
      const interactive = opts.nonInteractive !== true && process.stdin.isTTY
      const home = resolveHome()
      await mkdir(home, { recursive: true })
      const { fileConfig, path } = await loadConfig({ home, env: {}, then: 'ductor init changed nothing; fix the file (or move it away) and run ductor init again' })
      const answers = interactive ? await ask(fileConfig, opts) : opts
      const config = applyAnswers(fileConfig, answers)
      await writeJsonAtomic(path, config)
      process.stdout.write(`Wrote ${path}\n` +
        (config.telegram_token === '' ? 'No bot token yet: Telegram stays off until you set telegram_token.\n' : '') +
        'Start the service with: ductor serve\n')
    })
}

/** Applies the answers to a config and validates the result; throws a clear error for a bad value. */
export function applyAnswers (base: Config, answers: Omit<InitOptions, 'interactive'>): Config {
  const config = structuredClone(base)
  if (answers.token !== undefined && answers.token !== '') {
    if (!TOKEN_PATTERN.test(answers.token)) throw new Error('--token: this is not a bot token; @BotFather gives one like 123456789:AAH…')
    config.telegram_token = answers.token
  }
  if (answers.userId !== undefined && answers.userId !== '') {
    config.allowed_user_ids = answers.userId.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      if (!/^\d+$/.test(s)) throw new Error(`--user-id: "${s}" is not a Telegram user id; expected digits (ask @userinfobot for yours)`)
      return Number(s)
    })
  }
  if (answers.provider !== undefined) {
    if (answers.provider !== config.provider && answers.model === undefined) config.model = answers.provider === 'codex' ? 'gpt-5.5' : 'opus'
    config.provider = answers.provider
  }
  if (answers.model !== undefined && answers.model !== '') config.model = answers.model
  if (answers.timezone !== undefined && answers.timezone !== '') {
    if (!isValidTimeZone(answers.timezone)) throw new Error(`--timezone: "${answers.timezone}" is not an IANA time zone, e.g. Europe/Berlin or America/New_York`)
    config.user_timezone = answers.timezone
  }
  assertValid(config, (p) => `config.json: ${p}`)
  return config
}

async function ask (config: Config, given: InitOptions): Promise<InitOptions> {
  const { input, password, select } = await import('@inquirer/prompts')
  const token = given.token ?? await password({
    message: 'Telegram bot token (from @BotFather; empty to keep the current one):',
    mask: '*',
    validate: (v) => v === '' || TOKEN_PATTERN.test(v) || 'That does not look like a bot token (123456789:AAH…)'
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
  const hostZone = Intl.DateTimeFormat().resolvedOptions().timeZone
  const timezone = given.timezone ?? await input({
    message: 'Your time zone:',
    default: config.user_timezone !== '' ? config.user_timezone : hostZone,
    validate: (v) => isValidTimeZone(v) || 'An IANA zone such as Europe/Berlin'
  })
  return { token, userId, provider, model: given.model, timezone, interactive: true }
}

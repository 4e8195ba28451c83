import { writeFile, access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { telegramMode, type Config } from './config.ts'
import type { HomePaths } from './home/paths.ts'
import type { TelegramState } from './telegram/telegram-service.ts'

/**
 * The block `ductor serve` prints once per home, on the first start: where everything is, what
 * state Telegram is in with the exact next step, and how to talk to the assistant without Telegram.
 * The admin token itself is never printed (stdout may go to a journal); only where it is.
 */
/** What the Telegram adapter says right now, when it runs: a refused token is known before the banner prints. */
export type TelegramNow = Pick<TelegramState, 'state' | 'reason' | 'retry_at'>

interface WelcomeOptions { url: string, paths: HomePaths, config: Config, envToken: boolean, telegram?: TelegramNow | null }

function welcomeText (opts: WelcomeOptions): string {
  const { url, paths, config } = opts
  const rows: Array<[string, string]> = [
    ['URL', `${url}  (curl ${url}/health)`],
    ['home', paths.home],
    ['config', paths.config],
    ['admin token', `"admin.token" in ${paths.config} (ductor commands read it from there)`],
    ['Telegram', telegramLine(config, opts.envToken, opts.telegram ?? null)],
    ['try it', 'ductor chat "hello"   (talks to the assistant without Telegram)']
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return '\nductor is running. First start on this home:\n' +
    rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n') +
    '\n  Check the setup any time with: ductor doctor\n\n'
}

function telegramLine (config: Config, envToken: boolean, now: TelegramNow | null): string {
  if (now?.state === 'down' && now.retry_at === null) {
    // Down for good (a refused token): said as `ductor status` says it; the reason names the fix.
    // A failure ductor retries (the network) keeps the line below: it may well connect in a moment.
    return `down: ${now.reason ?? 'unknown'} (ductor does not retry this on its own)`
  }
  if (config.telegram_token === '') {
    return 'off: no bot token. Next: run `ductor init` (asks for the token from @BotFather and your user id), then restart ductor'
  }
  const where = envToken ? 'DUCTOR_ALLOWED_USER_IDS' : 'ductor init --user-id <your id>'
  if (config.allowed_user_ids.length === 0) {
    return `connecting, but allowed_user_ids is empty: the bot answers nobody. Next: ${where} (ask @userinfobot for your id), then restart ductor`
  }
  const mode = telegramMode(config)
  return `connecting (${mode}${mode === 'webhook' ? ` at ${config.server.public_url}` : ''}). Next: write to your bot in Telegram; \`ductor status\` shows whether it is up`
}

/** The welcome text the first time this home is served, else null; remembers it in `state/`. */
export async function welcomeOnce (opts: WelcomeOptions): Promise<string | null> {
  const marker = join(opts.paths.state, 'first-start-shown')
  if (await access(marker).then(() => true, () => false)) return null
  await mkdir(opts.paths.state, { recursive: true })
  await writeFile(marker, new Date().toISOString() + '\n')
  return welcomeText(opts)
}

import { telegramMode, type Config } from '../config.ts'
import { ok, warn, fail, type CheckResult } from './doctor-types.ts'
import { describeFetchError } from './net-error.ts'

/** `123456789:AAH…` → `123456789:***`: the bot id stays readable, the secret part never shows. */
export function maskToken (token: string): string {
  const colon = token.indexOf(':')
  return colon > 0 ? `${token.slice(0, colon)}:***` : '***'
}

/** Replaces every occurrence of the token (and its secret half) in a text. */
export function scrubToken (text: string, token: string): string {
  if (token.length < 8) return text
  let out = text.split(token).join(maskToken(token))
  const secret = token.slice(token.indexOf(':') + 1)
  if (secret.length >= 8) out = out.split(secret).join('***')
  return out
}

/** The bot token is set and looks like one; someone is allowed to talk to the bot. */
export function checkBotToken (config: Config): CheckResult {
  const token = config.telegram_token
  if (token === '') return warn('bot token', 'not set: Telegram is off (the Bot API and webhook checks are skipped)', 'ductor init (or set DUCTOR_TELEGRAM_TOKEN)')
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) return fail('bot token', `${maskToken(token)} is not a bot token (digits:letters)`, 'copy the token again from @BotFather, then ductor init --token <token>')
  if (config.allowed_user_ids.length === 0) return warn('bot token', `${maskToken(token)} is set, but allowed_user_ids is empty: the bot ignores everyone`, 'ductor init --user-id <your id> (ask @userinfobot for it)')
  return ok('bot token', `${maskToken(token)}, ${config.allowed_user_ids.length} allowed user(s), ${telegramMode(config)} mode`)
}

interface BotApiAnswer<T> { ok: boolean, result?: T, description?: string, error_code?: number }

async function callBotApi<T> (config: Config, method: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<{ status: number, body: BotApiAnswer<T> } | { error: string }> {
  const root = config.telegram.api_root.replace(/\/+$/, '')
  try {
    const res = await fetchImpl(`${root}/bot${config.telegram_token}/${method}`, { signal: AbortSignal.timeout(timeoutMs) })
    const body = await res.json().catch(() => ({ ok: false, description: `HTTP ${res.status}, not JSON` })) as BotApiAnswer<T>
    return { status: res.status, body }
  } catch (err) {
    return { error: scrubToken(describeFetchError(err, timeoutMs), config.telegram_token) }
  }
}

/** `getMe`: the Bot API is reachable and accepts the token. */
export async function checkBotApi (config: Config, fetchImpl: typeof fetch, timeoutMs: number): Promise<CheckResult> {
  const root = config.telegram.api_root
  const answer = await callBotApi<{ username?: string }>(config, 'getMe', fetchImpl, timeoutMs)
  if ('error' in answer) return fail('Bot API', `cannot reach ${root}: ${answer.error}`, 'check this machine\'s network, DNS and firewall (outgoing HTTPS), or telegram.api_root')
  if (answer.status === 401 || answer.status === 404) {
    return fail('Bot API', `Telegram refuses the token (${answer.status} ${answer.body.description ?? ''})`.trim(), 'get the token again from @BotFather (/mybots → API Token), then ductor init --token <token>')
  }
  if (!answer.body.ok) return fail('Bot API', `${root} answered ${answer.status}: ${answer.body.description ?? 'not ok'}`)
  return ok('Bot API', `reachable at ${root}; the bot is @${answer.body.result?.username ?? '?'}`)
}

interface WebhookInfo { url?: string, pending_update_count?: number, last_error_date?: number, last_error_message?: string }

/**
 * `getWebhookInfo`: in webhook mode the webhook points at public_url + webhook_path and its last
 * delivery did not fail recently; in polling mode no webhook is set (it would take the updates).
 */
export async function checkWebhook (config: Config, fetchImpl: typeof fetch, timeoutMs: number, now = Date.now()): Promise<CheckResult> {
  const mode = telegramMode(config)
  const expected = config.server.public_url.replace(/\/+$/, '') + config.telegram.webhook_path
  if (mode === 'webhook' && !/^https:\/\//.test(config.server.public_url)) {
    return fail('webhook', config.server.public_url === ''
      ? 'telegram.mode is webhook but server.public_url is empty'
      : `server.public_url ${config.server.public_url} is not https://; Telegram only delivers to HTTPS`, 'set server.public_url to your https:// address behind the reverse proxy (docs/operations.md)')
  }
  const answer = await callBotApi<WebhookInfo>(config, 'getWebhookInfo', fetchImpl, timeoutMs)
  if ('error' in answer) return fail('webhook', `cannot ask Telegram: ${answer.error}`)
  if (!answer.body.ok) return fail('webhook', `getWebhookInfo answered ${answer.status}: ${answer.body.description ?? 'not ok'}`)
  const info = answer.body.result ?? {}
  const url = info.url ?? ''
  const pending = info.pending_update_count ?? 0
  if (mode === 'polling') {
    return url === ''
      ? ok('webhook', 'none set (polling mode)')
      : warn('webhook', `a webhook is set (${url}) while ductor is in polling mode; polling removes it on start, and whatever set it stops getting updates`,
        'if another ductor serves this bot by webhook, give each its own bot')
  }
  if (url === '') return warn('webhook', `not registered yet (expected ${expected}); ductor registers it on start`, 'start ductor, then run ductor doctor again')
  if (url !== expected) return warn('webhook', `registered for ${url}, expected ${expected}; ductor sets it again on start`, 'restart ductor')
  if (info.last_error_date !== undefined) {
    const ageMin = Math.max(0, Math.round((now / 1000 - info.last_error_date) / 60))
    const age = ageMin < 120 ? `${ageMin} min ago` : `${Math.round(ageMin / 60)} h ago`
    if (ageMin < 24 * 60) {
      return warn('webhook', `registered at ${url}, ${pending} pending; the last delivery failed ${age}: ${info.last_error_message ?? 'no message'}`,
        `check that the proxy sends ${config.telegram.webhook_path} to ductor with its headers, and that the certificate is valid (docs/operations.md)`)
    }
    return ok('webhook', `registered at ${url}, ${pending} pending (last error ${age}: ${info.last_error_message ?? ''})`)
  }
  return ok('webhook', `registered at ${url}, ${pending} pending, no delivery errors`)
}

import type { Config } from '../config.ts'
import type { ProviderName } from '../providers/events.ts'
import { equivalentModel } from '../models.ts'

/**
 * The provider fallback (ADR 0028): as in the Python ductor, when the provider a message would run
 * with is not logged in on this machine and the other one is, the message runs with the other
 * provider's equivalent model. Never silently: the chat is told (once per chat while the service
 * runs), `/status` shows it, each such run is logged and recorded with the provider it really used.
 * `provider_fallback: false` turns it off (the run then fails with "run `claude` / `codex login`").
 */

/** Whether each CLI is logged in: true, false, or null when that cannot be told (then no fallback). */
export type ProviderLogins = Record<ProviderName, boolean | null>

export interface Target { provider: ProviderName, model: string }

export interface Fallback {
  from: Target
  to: Target
}

const LABEL: Record<ProviderName, string> = { claude: 'Claude Code', codex: 'Codex' }
const LOGIN: Record<ProviderName, string> = { claude: 'run `claude` on this machine to log in', codex: 'run `codex login` on this machine' }

/** The target to run instead of `target`, or null when `target` runs as it is. */
export function providerFallback (config: Pick<Config, 'provider_fallback'>, target: Target, logins: ProviderLogins | null): Fallback | null {
  if (!config.provider_fallback || logins === null || logins[target.provider] !== false) return null
  const other: ProviderName = target.provider === 'claude' ? 'codex' : 'claude'
  if (logins[other] !== true) return null
  return { from: target, to: { provider: other, model: equivalentModel(target.model, other) } }
}

/** What the chat is told. */
export function fallbackNotice (f: Fallback): string {
  return `${LABEL[f.from.provider]} is not logged in here (${LOGIN[f.from.provider]}), so ${LABEL[f.to.provider]} · ${f.to.model} answers instead of ` +
    `${f.from.model}. Your default is unchanged; /model switches it, and "provider_fallback": false in config.json turns this off.`
}

/** The /status line. */
export function fallbackStatus (f: Fallback): string {
  return `Fallback: ${LABEL[f.from.provider]} is not logged in, so messages run with ${LABEL[f.to.provider]} · \`${f.to.model}\`.`
}

import type { TSchema } from 'typebox'
import { ConfigSchema, type Config } from '../config-schema.ts'
import { applyEnv, assertValid, BOT_TOKEN_PATTERN, ConfigError, ENV_OVERRIDES, GENERATED_SECRETS, nearestKey, reconcileModel } from '../config.ts'
import { providerOfModel } from '../models.ts'
import { DuctorError, ErrorCodes } from '../errors.ts'

/**
 * PATCH /api/config (SPEC §10): a partial config is merged into the file's config (objects merged,
 * everything else replaced), validated like at startup, and sorted into what applies live and what
 * needs a restart. Pure; the caller persists and applies.
 */

/** Keys (or key prefixes) read only at startup: the listener, the Telegram bot, the admin routes, Docker. */
const RESTART_PREFIXES = ['server.', 'webhooks.host', 'webhooks.port', 'webhooks.max_body_bytes', 'telegram_token', 'telegram.', 'admin.enabled', 'docker.', 'log_level']

export interface ConfigPatchPlan {
  /** The new file content (no environment overrides). */
  file: Config
  /** The new effective config (file + environment). */
  effective: Config
  changed: string[]
  appliedLive: string[]
  restartRequired: string[]
  /** Changed in the file but overridden by an environment variable, so without effect. */
  overriddenByEnv: string[]
}

export function planConfigPatch (current: Config, patch: unknown, env: NodeJS.ProcessEnv): ConfigPatchPlan {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new DuctorError(ErrorCodes.badRequest, 'body: expected an object of config keys to change, e.g. {"model": "sonnet"}')
  }
  checkKnownKeys(patch as Record<string, unknown>, ConfigSchema, '')
  const file = merge(structuredClone(current) as unknown as Record<string, unknown>, patch as Record<string, unknown>) as unknown as Config
  const wanted = (patch as Record<string, unknown>)['model']
  const owner = typeof wanted === 'string' ? providerOfModel(wanted) : null
  if (owner !== null && owner !== file.provider) {
    throw new DuctorError(ErrorCodes.badRequest, `body/model: "${String(wanted)}" is a ${owner === 'claude' ? 'Claude' : 'Codex'} model, but the provider is ${file.provider}; set "provider": "${owner}" too, or a ${file.provider} model`)
  }
  // What `ductor init` refuses is refused here too: a wrong token would take Telegram down at the next start.
  const token = (patch as Record<string, unknown>)['telegram_token']
  if (typeof token === 'string' && token !== '' && !BOT_TOKEN_PATTERN.test(token)) {
    throw new DuctorError(ErrorCodes.badRequest, 'body/telegram_token: this is not a bot token; @BotFather gives one like 123456789:AAH… (digits, a colon, 35 letters, digits, - or _), or "" to turn Telegram off')
  }
  for (const key of GENERATED_SECRETS) {
    if (getLeaf(file, key) === '') throw new DuctorError(ErrorCodes.badRequest, `${key}: a secret cannot be empty`)
  }
  // Types first: `{"model": true}` is a 400 naming the field, before anything reads the model as text.
  try {
    assertValid(file, (path) => `body${path}`)
  } catch (err) {
    if (err instanceof ConfigError) throw new DuctorError(ErrorCodes.badRequest, err.message)
    throw err
  }
  // A new provider without a model gets its default model, never the other provider's.
  reconcileModel(file)
  const effective = applyEnv(structuredClone(file), env)
  const changed = diffKeys(current, file, '')
  const envKeys = new Set(ENV_OVERRIDES.filter(([name]) => (env[name] ?? '') !== '').map(([, key]) => key))
  const overriddenByEnv = changed.filter((k) => envKeys.has(k))
  const effectiveChanged = changed.filter((k) => !envKeys.has(k))
  const needsRestart = (k: string): boolean => RESTART_PREFIXES.some((p) => p.endsWith('.') ? k.startsWith(p) : k === p || k.startsWith(p + '.'))
  return {
    file,
    effective,
    changed,
    appliedLive: effectiveChanged.filter((k) => !needsRestart(k)),
    restartRequired: effectiveChanged.filter(needsRestart),
    overriddenByEnv
  }
}

function checkKnownKeys (patch: Record<string, unknown>, schema: TSchema, prefix: string): void {
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {}
  for (const [key, value] of Object.entries(patch)) {
    const child = props[key]
    if (child === undefined) {
      const near = nearestKey(key, Object.keys(props), prefix.replaceAll('/', '.'))
      throw new DuctorError(ErrorCodes.badRequest, `body/${prefix}${key}: unknown config key${near === null ? '' : `; did you mean "${near}"?`} (see docs/configuration.md for the keys)`)
    }
    const c = child as { type?: string, properties?: object }
    if (c.type === 'object' && c.properties !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      checkKnownKeys(value as Record<string, unknown>, child, `${prefix}${key}/`)
    }
  }
}

function merge (target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue
    const current = target[key]
    if (isObject(value) && isObject(current)) target[key] = merge(current, value)
    else target[key] = value
  }
  return target
}

function diffKeys (a: unknown, b: unknown, prefix: string): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys].flatMap((k) => diffKeys(a[k], b[k], prefix === '' ? k : `${prefix}.${k}`))
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix]
}

function getLeaf (obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((cur, part) => (isObject(cur) ? cur[part] : undefined), obj)
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const SECRET_NAME = /token|secret|password|passwd|api_?key|credential/i

/** The config with every secret (schema `secret: true`) replaced: "[redacted]" when set, "" when empty. */
export function redactConfig (config: Config): Record<string, unknown> {
  const walk = (value: unknown, schema: TSchema | undefined): unknown => {
    const s = schema as { secret?: boolean, properties?: Record<string, TSchema> } | undefined
    if (s?.secret === true) return value === '' ? '' : '[redacted]'
    if (!isObject(value)) return value
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const child = s?.properties?.[k]
      // Keys ductor does not know (kept from older files) are redacted when their name says secret.
      out[k] = child === undefined && SECRET_NAME.test(k) && typeof v === 'string' && v !== '' ? '[redacted]' : walk(v, child)
    }
    return out
  }
  return walk(config, ConfigSchema) as Record<string, unknown>
}

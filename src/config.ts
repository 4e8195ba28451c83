import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { isIP } from 'node:net'
import type { TSchema } from 'typebox'
import { ConfigSchema, type Config } from './config-schema.ts'
import { writeJsonAtomic } from './atomic-json.ts'
import { readUserJson } from './json-location.ts'
import { UserFileError } from './errors.ts'
import type { Logger } from './logger-types.ts'
import { CLAUDE_MODELS, CODEX_MODELS, modelChoices, providerOfModel } from './models.ts'
import { editDistance } from './edit-distance.ts'
import { isValidTimezone } from './tz.ts'
import { fillDefaults, surelyValid, typeboxValue } from './schema-value.ts'

export { ConfigSchema, type Config } from './config-schema.ts'

/** A configuration problem that stops startup: names the key (or env var), the value, what is allowed. */
export class ConfigError extends Error {
  readonly key: string

  constructor (key: string, message: string) {
    super(message)
    this.name = 'ConfigError'
    this.key = key
  }
}

/** Environment variables that override file values (SPEC §2), mapped to their config path. */
export const ENV_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['DUCTOR_HOST', 'server.host'],
  ['DUCTOR_PORT', 'server.port'],
  ['DUCTOR_PUBLIC_URL', 'server.public_url'],
  ['DUCTOR_TELEGRAM_TOKEN', 'telegram_token'],
  ['DUCTOR_ALLOWED_USER_IDS', 'allowed_user_ids'],
  ['DUCTOR_ADMIN_TOKEN', 'admin.token'],
  ['DUCTOR_ADMIN_HOST', 'admin.host'],
  ['DUCTOR_ADMIN_PORT', 'admin.port'],
  ['DUCTOR_TELEGRAM_API_ROOT', 'telegram.api_root'],
  ['DUCTOR_PROVIDER', 'provider'],
  ['DUCTOR_MODEL', 'model'],
  ['DUCTOR_LOG_LEVEL', 'log_level'],
  ['DUCTOR_USER_TIMEZONE', 'user_timezone']
]

/** Secrets generated on first start and persisted (SPEC §2: random, ≥ 32 bytes, never logged). */
export const GENERATED_SECRETS = ['admin.token', 'telegram.webhook_secret', 'webhooks.token'] as const

/** The config's secret values: the bot token and the generated ones (for masking, ADR 0007). */
/** What a bot token from @BotFather looks like: digits, a colon, 30+ letters, digits, - or _. */
export const BOT_TOKEN_PATTERN = /^\d{5,}:[A-Za-z0-9_-]{30,}$/

export function configSecrets (config: Config): string[] {
  return [config.telegram_token, config.media.stt_api_key, ...GENERATED_SECRETS.map((key) => getPath(config, key))].filter((s): s is string => typeof s === 'string')
}

export function configPath (home: string): string {
  return join(home, 'config', 'config.json')
}

export interface LoadedConfig {
  /** The effective configuration: file + defaults + environment overrides. */
  config: Config
  /** The configuration as stored in the file (no environment overrides). */
  fileConfig: Config
  path: string
  /** True when the file was created or had keys filled in and was written back. */
  written: boolean
  /** Keys of the file ductor does not know (kept, unused), each with the nearest known key. */
  unknownKeys: UnknownKey[]
}

/**
 * Loads `config/config.json` from the home: creates it when missing, fills missing keys with their
 * defaults and writes them back (unknown keys kept), generates missing secrets, then applies the
 * environment. Throws ConfigError for any invalid value.
 */
export async function loadConfig (opts: { home: string, env?: NodeJS.ProcessEnv, logger?: Logger, then?: string }): Promise<LoadedConfig> {
  const path = configPath(opts.home)
  const then = opts.then ?? 'ductor left it as it is; fix it and start ductor again'
  // A file the user wrote that is not JSON is never replaced: the start stops with file, line and
  // column (issue 16; ADR 0017) instead of moving it aside and generating new tokens.
  const read = await readUserJson(path, then)
  const raw = read.status === 'missing' ? {} : read.value
  if (!isPlainObject(raw)) {
    throw new UserFileError(path, `${path}: holds ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}, not a JSON object of settings ({ "telegram_token": …, … }); ${then}`)
  }
  const before = JSON.stringify(raw)
  const fileConfig = completeConfig(raw)
  for (const key of GENERATED_SECRETS) {
    if (getPath(fileConfig, key) === '') setPath(fileConfig, key, generateSecret())
  }
  assertValid(fileConfig, (path) => `config.json: ${path}`)
  const written = read.status === 'missing' || JSON.stringify(fileConfig) !== before
  if (written) await writeJsonAtomic(path, fileConfig)

  const config = applyEnv(structuredClone(fileConfig), opts.env ?? process.env)
  return { config, fileConfig, path, written, unknownKeys: unknownConfigKeys(raw) }
}

/** A key of config.json that ductor does not know, and the known key it most likely meant. */
export interface UnknownKey {
  /** Dotted path, e.g. `cli_timout` or `heartbeat.quiet_strat`. */
  key: string
  suggestion: string | null
}

/** Keys the Python ductor writes that this edition does not use: kept quietly, never warned about. */
const PYTHON_ONLY_KEYS = new Set(['ductor_home'])

/** Every key of `raw` the schema does not know (objects with known children are walked). */
export function unknownConfigKeys (raw: Record<string, unknown>): UnknownKey[] {
  const out: UnknownKey[] = []
  const walk = (obj: Record<string, unknown>, schema: TSchema, prefix: string): void => {
    const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {}
    for (const [key, value] of Object.entries(obj)) {
      const child = props[key]
      const path = prefix + key
      if (child === undefined) {
        if (!PYTHON_ONLY_KEYS.has(path)) out.push({ key: path, suggestion: nearestKey(key, Object.keys(props), prefix) })
        continue
      }
      const c = child as { type?: string, properties?: object }
      if (c.type === 'object' && c.properties !== undefined && isPlainObject(value)) walk(value, child, `${path}.`)
    }
  }
  walk(raw, ConfigSchema, '')
  return out
}

/** One line about an unknown key: `config.json: unknown key "cli_timout" (kept, not used); did you mean "cli_timeout"?` */
export function describeUnknownKey (u: UnknownKey, where = 'config.json'): string {
  return `${where}: unknown key "${u.key}" (kept, not used)${u.suggestion === null ? '; see docs/configuration.md for the keys' : `; did you mean "${u.suggestion}"?`}`
}

/** The known key nearest to `key` by edit distance, when near enough to be a typo. */
export function nearestKey (key: string, known: string[], prefix = ''): string | null {
  let best: string | null = null
  let bestDistance = Infinity
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  if (best === null || bestDistance > Math.max(2, Math.floor(key.length / 3))) return null
  return prefix + best
}

/** Fills every missing key with its default; unknown keys stay. Does not validate. */
export function completeConfig (raw: Record<string, unknown>): Config {
  return fillDefaults(ConfigSchema, structuredClone(raw)) as Config
}

/** The model a provider runs when none of its own is set. */
export function defaultModelOf (provider: 'claude' | 'codex'): string {
  return provider === 'codex' ? CODEX_MODELS[0] : CLAUDE_MODELS[0]
}

/**
 * Provider and model always belong together: a model that clearly is the other provider's (e.g.
 * `DUCTOR_PROVIDER=codex` over the file's `"model": "opus"`) becomes the provider's default model.
 * A model ductor does not recognise (a custom Codex provider's) is left as it is. Answers the key
 * that was adjusted, or null.
 */
export function reconcileModel (config: Config): { from: string, to: string } | null {
  const owner = providerOfModel(config.model)
  if (owner === null || owner === config.provider) return null
  const from = config.model
  config.model = defaultModelOf(config.provider)
  return { from, to: config.model }
}

export function applyEnv (config: Config, env: NodeJS.ProcessEnv): Config {
  for (const [name, key] of ENV_OVERRIDES) {
    const text = env[name]
    if (text === undefined || text === '') continue
    setPath(config, key, parseEnvValue(name, key, text))
  }
  const envModel = env['DUCTOR_MODEL'] ?? ''
  if (envModel !== '' && providerOfModel(envModel) !== null && providerOfModel(envModel) !== config.provider) {
    const viaEnv = (env['DUCTOR_PROVIDER'] ?? '') !== ''
    throw new ConfigError('model', `DUCTOR_MODEL: "${envModel}" is a ${providerOfModel(envModel) === 'claude' ? 'Claude' : 'Codex'} model, but the provider ` +
      `${viaEnv ? '(DUCTOR_PROVIDER) ' : ''}is ${config.provider}; use one of ${modelChoices(config.provider).join(', ')}`)
  }
  reconcileModel(config)
  assertValid(config, (path) => {
    const env = ENV_OVERRIDES.find(([, key]) => '/' + key.replace('.', '/') === path)
    return env === undefined ? `config.json: ${path}` : `${env[0]} (${path})`
  })
  return config
}

function parseEnvValue (name: string, key: string, text: string): unknown {
  if (key === 'allowed_user_ids') {
    return text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
      if (!/^-?\d+$/.test(part)) throw new ConfigError(name, `${name}: "${part}" is not a Telegram user id; expected comma-separated integers, e.g. 123456,789012`)
      return Number(part)
    })
  }
  if (key === 'server.port' || key === 'admin.port') {
    if (!/^\d+$/.test(text)) throw new ConfigError(name, `${name}: "${text}" is not a port; expected an integer from 0 to 65535`)
    return Number(text)
  }
  return text
}

/** Validates a complete config; throws a ConfigError naming the first bad key, its value and what is allowed. */
export function assertValid (config: unknown, label: (path: string) => string): asserts config is Config {
  // A valid config never loads typebox/value (ADR 47); TypeBox decides, and words the error, otherwise.
  if (surelyValid(ConfigSchema, config) || typeboxValue().Value.Check(ConfigSchema, config)) {
    const c = config as Config
    const tz = c.user_timezone
    if (tz !== '' && !isValidTimezone(tz)) {
      throw new ConfigError('user_timezone', `${label('/user_timezone')}: ${JSON.stringify(tz)} is not a time zone; expected an IANA name such as "Europe/Berlin", or "" for the host's zone`)
    }
    const trust = trustProxySetting(c.server.trust_proxy)
    if (!trust.ok) {
      throw new ConfigError('server.trust_proxy', `${label('/server/trust_proxy')}: ${trust.reason}; expected the reverse proxy's addresses (e.g. ["127.0.0.1"]), a number of proxies, or false`)
    }
    const server = listenAddress(c).port
    if (c.admin.port !== null && c.admin.port !== 0 && c.admin.port === server) {
      throw new ConfigError('admin.port', `${label('/admin/port')}: ${c.admin.port} is the server's port; the admin API has a listener of its own (ADR 14), so expected another port, or null for ${server + 1}`)
    }
    return
  }
  const first = [...typeboxValue().Value.Errors(ConfigSchema, config)][0]
  const path = first?.instancePath ?? ''
  const key = path.split('/').filter(Boolean).join('.')
  const schema = schemaAt(path)
  const value = getPath(config, key)
  // JSON numbers beyond a double (1e400) are parsed as Infinity, which JSON.stringify writes as null.
  const shown = value === undefined ? 'missing' : typeof value === 'number' && !Number.isFinite(value) ? 'a number too large' : JSON.stringify(value)
  throw new ConfigError(key, `${label(path)}: ${shown} is not allowed; expected ${schema === undefined ? (first?.message ?? 'a valid value') : describeSchema(schema)}`)
}

function schemaAt (instancePath: string): TSchema | undefined {
  let schema: TSchema | undefined = ConfigSchema
  for (const part of instancePath.split('/').filter(Boolean)) {
    const s = schema as Record<string, unknown> | undefined
    if (s?.['type'] === 'array') schema = s['items'] as TSchema
    else schema = (s?.['properties'] as Record<string, TSchema> | undefined)?.[part]
  }
  return schema
}

/** A short human description of what a schema allows, for error messages and docs. */
export function describeSchema (schema: TSchema): string {
  const s = schema as Record<string, unknown>
  const values = s['enum'] as unknown[] | undefined
  if (values !== undefined) return `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`
  const anyOf = s['anyOf'] as TSchema[] | undefined
  if (anyOf !== undefined) {
    const consts = anyOf.map((a) => (a as Record<string, unknown>)['const'])
    if (consts.every((c) => typeof c === 'string')) return `one of ${consts.map((c) => JSON.stringify(c)).join(', ')}`
    return anyOf.map(describeSchema).join(' or ')
  }
  const range = (unit: string) => {
    const min = s['minimum'] ?? s['exclusiveMinimum']
    const max = s['maximum']
    if (min !== undefined && max !== undefined) return `${unit} from ${String(min)} to ${String(max)}`
    if (s['exclusiveMinimum'] !== undefined) return `${unit} greater than ${String(s['exclusiveMinimum'])}`
    if (min !== undefined) return `${unit} of at least ${String(min)}`
    return unit
  }
  switch (s['type']) {
    case 'integer': return range('an integer')
    case 'number': return range('a number')
    case 'boolean': return 'true or false'
    case 'null': return 'null'
    case 'array': return `a list of ${describeSchema(s['items'] as TSchema).replace(/^an? /, '')}s`
    case 'object': return 'an object'
    case 'string':
      if (s['pattern'] !== undefined) return `a string matching ${String(s['pattern'])}`
      return s['minLength'] !== undefined ? 'a non-empty string' : 'a string'
    default: return 'a valid value'
  }
}

function generateSecret (): string {
  return randomBytes(32).toString('base64url')
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function getPath (obj: unknown, key: string): unknown {
  let cur: unknown = obj
  for (const part of key.split('.').filter(Boolean)) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

function setPath (obj: Record<string, unknown> | Config, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj as Record<string, unknown>
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(cur[part])) cur[part] = {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts[parts.length - 1] as string] = value
}

/** Where the one HTTP server listens: `server.host`/`server.port`, else `webhooks.host`/`webhooks.port`. */
export function listenAddress (config: Config): { host: string, port: number } {
  return { host: config.server.host ?? config.webhooks.host, port: config.server.port ?? config.webhooks.port }
}

/**
 * The admin API's own listener (ADR 14): `admin.host`, and `admin.port` or the server's port + 1
 * (any free port when the server's is 0, the port below when the server's is 65535).
 */
export function adminListenAddress (config: Config): { host: string, port: number } {
  const server = listenAddress(config).port
  const port = config.admin.port ?? (server === 0 ? 0 : server === 65535 ? 65534 : server + 1)
  return { host: config.admin.host, port }
}

/** Keywords proxy-addr (Fastify's trustProxy) understands besides addresses and CIDR ranges. */
const PROXY_KEYWORDS: Readonly<Record<string, string>> = { loopback: '127.0.0.0/8, ::1', linklocal: '169.254.0.0/16, fe80::/10', uniquelocal: '10/8, 172.16/12, 192.168/16, fc00::/7' }

/**
 * `server.trust_proxy` as Fastify takes it, or the reason it cannot be used. `false`: no proxy is
 * believed. A number: that many proxies in front (the address the last of them saw is the client).
 * Addresses/CIDR ranges/keywords: X-Forwarded-For is read only on connections from them, right to
 * left, skipping trusted hops. `true` (older configs) would believe whatever the client wrote first
 * in X-Forwarded-For, so it is read as `loopback`: a proxy on this machine (`ductor doctor` warns).
 */
export function trustProxySetting (value: Config['server']['trust_proxy']): { ok: true, value: false | number | string[] } | { ok: false, reason: string } {
  if (value === false) return { ok: true, value: false }
  if (value === true) return { ok: true, value: ['loopback'] }
  if (typeof value === 'number') return { ok: true, value }
  const entries = (typeof value === 'string' ? value.split(',') : value).map((e) => e.trim())
  for (const entry of entries) {
    if (!isProxyAddress(entry)) {
      return { ok: false, reason: `${JSON.stringify(entry)} is not an IP address, a CIDR range (e.g. 10.0.0.0/8) or one of ${Object.keys(PROXY_KEYWORDS).join(', ')}` }
    }
  }
  return { ok: true, value: entries }
}

function isProxyAddress (entry: string): boolean {
  if (Object.hasOwn(PROXY_KEYWORDS, entry)) return true
  const [address = '', bits, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/** Telegram's effective mode: `auto` means webhook when a public URL is set, else polling. */
export function telegramMode (config: Config): 'webhook' | 'polling' {
  if (config.telegram.mode !== 'auto') return config.telegram.mode
  return config.server.public_url === '' ? 'polling' : 'webhook'
}

/** pino's level for the config's `log_level` (Python names accepted). */
export function pinoLevel (logLevel: string): 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' {
  const l = logLevel.toLowerCase()
  if (l === 'warning') return 'warn'
  if (l === 'critical') return 'fatal'
  return l as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
}

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The Python ductor's (0.4.4) loading rules for the four files both editions share, written down as
 * a checker (test/fixtures/seed-home/README.md lists them; they were measured with its own loaders):
 *
 * - `config/config.json`, `cron_jobs.json`, `webhooks.json`: extra keys are fine; the keys it knows
 *   must be there with values of the type it reads them as.
 * - `sessions.json`: each chat entry is built with `SessionData(**entry)`, so one key it does not
 *   know makes it raise `TypeError` and the Python ductor does not start. Keys of a provider bucket
 *   are read by name.
 *
 * `checkPythonHome(home)` returns every problem found (empty = the Python version loads the home).
 */

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object'
type Rule = Kind | Kind[] | { object: Record<string, Rule> } | { list: Rule }

/** The keys of a chat entry `SessionData(**entry)` accepts: the fields the 0.4.4 version writes (the fixture's). */
export const PYTHON_SESSION_FIELDS = ['chat_id', 'provider', 'model', 'created_at', 'last_active', 'provider_sessions']

const str: Kind = 'string'
const int: Kind = 'integer'
const num: Kind[] = ['number', 'integer']
const optStr: Kind[] = ['string', 'null']
const optInt: Kind[] = ['integer', 'null']
const optNum: Kind[] = ['number', 'integer', 'null']

const CONFIG: Record<string, Rule> = {
  log_level: str,
  provider: str,
  model: str,
  ductor_home: str,
  idle_timeout_minutes: int,
  session_age_warning_hours: num,
  daily_reset_hour: int,
  max_budget_usd: optNum,
  max_turns: optInt,
  max_session_messages: optInt,
  permission_mode: str,
  cli_timeout: num,
  reasoning_effort: str,
  file_access: str,
  user_timezone: str,
  telegram_token: str,
  allowed_user_ids: { list: int },
  streaming: { object: { enabled: 'boolean', min_chars: int, max_chars: int, idle_ms: int, edit_interval_seconds: num, max_edit_failures: int, append_mode: 'boolean', sentence_break: 'boolean' } },
  docker: { object: { enabled: 'boolean', image_name: str, container_name: str, auto_build: 'boolean' } },
  cleanup: { object: { enabled: 'boolean', telegram_files_days: int, output_to_user_days: int, check_hour: int } },
  heartbeat: { object: { enabled: 'boolean', interval_minutes: int, cooldown_minutes: int, quiet_start: int, quiet_end: int, prompt: str, ack_token: str } },
  webhooks: { object: { enabled: 'boolean', host: str, port: int, token: str, max_body_bytes: int, rate_limit_per_minute: int } },
  daily_reset_enabled: 'boolean',
  cli_parameters: { object: { claude: { list: str }, codex: { list: str } } }
}

/** Enumerations the Python config validates. */
const CONFIG_VALUES: Record<string, readonly string[]> = {
  provider: ['claude', 'codex'],
  reasoning_effort: ['low', 'medium', 'high', 'xhigh'],
  file_access: ['all', 'home', 'workspace'],
  permission_mode: ['default', 'acceptEdits', 'plan', 'bypassPermissions', 'dontAsk']
}

const BUCKET: Record<string, Rule> = { session_id: str, message_count: int, total_cost_usd: num, total_tokens: int }

const SESSION: Record<string, Rule> = { chat_id: int, provider: str, model: str, created_at: str, last_active: str }

const CRON_JOB: Record<string, Rule> = {
  id: str,
  title: str,
  description: str,
  schedule: str,
  task_folder: str,
  agent_instruction: str,
  enabled: 'boolean',
  created_at: str,
  last_run_at: optStr,
  last_run_status: optStr
}
/** Optional in a job (the Python tool writes them only when set), typed when present. */
const CRON_JOB_OPTIONAL: Record<string, Rule> = {
  timezone: optStr,
  provider: optStr,
  model: optStr,
  reasoning_effort: optStr,
  cli_parameters: { list: str },
  quiet_start: optInt,
  quiet_end: optInt,
  dependency: optStr
}

const HOOK: Record<string, Rule> = {
  id: str,
  title: str,
  description: str,
  mode: str,
  prompt_template: str,
  enabled: 'boolean',
  task_folder: optStr,
  auth_mode: str,
  token: str,
  hmac_secret: str,
  hmac_header: str,
  hmac_algorithm: str,
  hmac_encoding: str,
  hmac_sig_prefix: str,
  hmac_sig_regex: str,
  hmac_payload_prefix_regex: str,
  created_at: str,
  trigger_count: int,
  last_triggered_at: optStr,
  last_error: optStr,
  provider: optStr,
  model: optStr,
  reasoning_effort: optStr,
  cli_parameters: { list: str },
  quiet_start: optInt,
  quiet_end: optInt,
  dependency: optStr
}

function kindOf (v: unknown): Kind {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v as Kind
}

function check (value: unknown, rule: Rule, where: string, problems: string[]): void {
  if (typeof rule === 'string' || Array.isArray(rule)) {
    const kinds = typeof rule === 'string' ? [rule] : rule
    // Python reads 600 as a float and 600.0 as an int alike: a number is a number.
    const k = kindOf(value)
    const ok = kinds.includes(k) || (k === 'integer' && kinds.includes('number'))
    if (!ok) problems.push(`${where}: ${JSON.stringify(value)} is ${k}, the Python version reads ${kinds.join(' or ')}`)
    return
  }
  if ('list' in rule) {
    if (!Array.isArray(value)) { problems.push(`${where}: expected a list, found ${kindOf(value)}`); return }
    value.forEach((item, i) => { check(item, rule.list, `${where}[${i}]`, problems) })
    return
  }
  checkObject(value, rule.object, {}, where, problems)
}

function checkObject (value: unknown, required: Record<string, Rule>, optional: Record<string, Rule>, where: string, problems: string[]): value is Record<string, unknown> {
  if (kindOf(value) !== 'object') { problems.push(`${where}: expected an object, found ${kindOf(value)}`); return false }
  const obj = value as Record<string, unknown>
  for (const [key, rule] of Object.entries(required)) {
    if (!(key in obj)) problems.push(`${where}.${key}: missing`)
    else check(obj[key], rule, `${where}.${key}`, problems)
  }
  for (const [key, rule] of Object.entries(optional)) if (key in obj) check(obj[key], rule, `${where}.${key}`, problems)
  return true
}

function isoDate (value: unknown, where: string, problems: string[]): void {
  // datetime.fromisoformat (Python 3.11+): a date, a time, an optional offset.
  if (typeof value === 'string' && !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    problems.push(`${where}: ${JSON.stringify(value)} is not a date datetime.fromisoformat reads`)
  }
}

export function checkConfig (raw: unknown, problems: string[] = []): string[] {
  if (!checkObject(raw, CONFIG, {}, 'config.json', problems)) return problems
  for (const [key, values] of Object.entries(CONFIG_VALUES)) {
    const v = raw[key]
    if (typeof v === 'string' && !values.includes(v)) problems.push(`config.json.${key}: ${JSON.stringify(v)} is not one of ${values.join(', ')}`)
  }
  return problems
}

export function checkSessions (raw: unknown, problems: string[] = []): string[] {
  if (kindOf(raw) !== 'object') return [...problems, `sessions.json: expected an object, found ${kindOf(raw)}`]
  for (const [key, entry] of Object.entries(raw as Record<string, unknown>)) {
    const where = `sessions.json["${key}"]`
    if (!checkObject(entry, SESSION, {}, where, problems)) continue
    const unknown = Object.keys(entry).filter((k) => !PYTHON_SESSION_FIELDS.includes(k))
    if (unknown.length > 0) problems.push(`${where}: SessionData() got an unexpected keyword argument ${unknown.map((k) => `'${k}'`).join(', ')} (TypeError: the Python version does not start)`)
    if (String(entry.chat_id) !== key) problems.push(`${where}.chat_id: ${String(entry.chat_id)} is not the entry's key`)
    isoDate(entry.created_at, `${where}.created_at`, problems)
    isoDate(entry.last_active, `${where}.last_active`, problems)
    if (!('provider_sessions' in entry)) continue
    const buckets = entry.provider_sessions
    if (kindOf(buckets) !== 'object') { problems.push(`${where}.provider_sessions: expected an object`); continue }
    for (const [provider, bucket] of Object.entries(buckets as Record<string, unknown>)) {
      checkObject(bucket, BUCKET, {}, `${where}.provider_sessions.${provider}`, problems)
    }
  }
  return problems
}

export function checkCronJobs (raw: unknown, problems: string[] = []): string[] {
  if (!checkObject(raw, { jobs: 'array' }, {}, 'cron_jobs.json', problems)) return problems
  ;(raw.jobs as unknown[]).forEach((job, i) => {
    const where = `cron_jobs.json.jobs[${i}]`
    if (checkObject(job, CRON_JOB, CRON_JOB_OPTIONAL, where, problems)) isoDate(job.created_at, `${where}.created_at`, problems)
  })
  return problems
}

export function checkWebhooks (raw: unknown, problems: string[] = []): string[] {
  if (!checkObject(raw, { hooks: 'array' }, {}, 'webhooks.json', problems)) return problems
  ;(raw.hooks as unknown[]).forEach((hook, i) => {
    const where = `webhooks.json.hooks[${i}]`
    if (checkObject(hook, HOOK, {}, where, problems)) {
      if (!['wake', 'cron_task'].includes(String(hook.mode))) problems.push(`${where}.mode: ${JSON.stringify(hook.mode)} is not wake or cron_task`)
      if (!['bearer', 'hmac'].includes(String(hook.auth_mode))) problems.push(`${where}.auth_mode: ${JSON.stringify(hook.auth_mode)} is not bearer or hmac`)
    }
  })
  return problems
}

async function readJson (path: string, problems: string[]): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message}`)
    return undefined
  }
}

/** Every problem the Python version would have loading the home's shared files. */
export async function checkPythonHome (home: string, configHome: string = home): Promise<string[]> {
  const problems: string[] = []
  const config = await readJson(join(configHome, 'config', 'config.json'), problems)
  if (config !== undefined) checkConfig(config, problems)
  const sessions = await readJson(join(home, 'sessions.json'), problems)
  if (sessions !== undefined) checkSessions(sessions, problems)
  const jobs = await readJson(join(home, 'cron_jobs.json'), problems)
  if (jobs !== undefined) checkCronJobs(jobs, problems)
  const hooks = await readJson(join(home, 'webhooks.json'), problems)
  if (hooks !== undefined) checkWebhooks(hooks, problems)
  return problems
}

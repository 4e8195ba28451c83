import type { Static } from 'typebox'
import { Type } from '../schema-type.ts'
import { fillDefaults, surelyValid, typeboxValue } from '../schema-value.ts'
import { PERMISSION_MODES } from '../config-schema.ts'

const nullableString = () => Type.Union([Type.String(), Type.Null()], { default: null })
const nullableHour = () => Type.Union([Type.Integer({ minimum: 0, maximum: 23 }), Type.Null()], { default: null })

export const HookModes = ['wake', 'cron_task'] as const
export const AuthModes = ['bearer', 'hmac', 'standard'] as const
export const HmacAlgorithms = ['sha256', 'sha1', 'sha512'] as const
export const HmacEncodings = ['hex', 'base64'] as const
export const HmacPresets = ['github', 'stripe', 'slack'] as const
export const Providers = ['claude', 'codex'] as const

const DEFAULT_TIMESTAMP_TOLERANCE_SECONDS = 300

/**
 * One webhook as stored in `webhooks.json` (SPEC §9). Field names and defaults are those of the
 * original Python ductor, so its files load unchanged; `hmac_preset`, `dedupe_header`,
 * `timestamp_tolerance_seconds` and `dedupe_window_seconds` are this edition's additions. Unknown fields are allowed and kept.
 *
 * `id`, `title`, `mode` and `prompt_template` have no default (the original requires them too).
 * The id pattern for new hooks is checked by the store, not here, so older files still load.
 */
export const HookSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  title: Type.String(),
  description: Type.String({ default: '' }),
  mode: Type.Union([Type.Literal('wake'), Type.Literal('cron_task')]),
  prompt_template: Type.String(),
  enabled: Type.Boolean({ default: true }),
  task_folder: nullableString(),
  auth_mode: Type.Union([Type.Literal('bearer'), Type.Literal('hmac'), Type.Literal('standard')], { default: 'bearer' }),
  token: Type.String({ default: '' }),
  hmac_secret: Type.String({ default: '' }),
  hmac_header: Type.String({ default: '' }),
  hmac_algorithm: Type.Union([Type.Literal('sha256'), Type.Literal('sha1'), Type.Literal('sha512')], { default: 'sha256' }),
  hmac_encoding: Type.Union([Type.Literal('hex'), Type.Literal('base64')], { default: 'hex' }),
  hmac_sig_prefix: Type.String({ default: 'sha256=' }),
  hmac_sig_regex: Type.String({ default: '' }),
  hmac_payload_prefix_regex: Type.String({ default: '' }),
  created_at: Type.String({ default: '' }),
  trigger_count: Type.Integer({ minimum: 0, default: 0 }),
  last_triggered_at: nullableString(),
  last_error: nullableString(),
  provider: Type.Union([Type.Literal('claude'), Type.Literal('codex'), Type.Null()], { default: null }),
  model: nullableString(),
  reasoning_effort: nullableString(),
  cli_parameters: Type.Array(Type.String(), { default: [] }),
  quiet_start: nullableHour(),
  quiet_end: nullableHour(),
  dependency: nullableString(),
  // [beyond]
  hmac_preset: Type.Union([Type.Literal('github'), Type.Literal('stripe'), Type.Literal('slack'), Type.Null()], { default: null }),
  dedupe_header: nullableString(),
  timestamp_tolerance_seconds: Type.Integer({ minimum: 1, maximum: 604800, default: DEFAULT_TIMESTAMP_TOLERANCE_SECONDS }),
  dedupe_window_seconds: Type.Union([Type.Integer({ minimum: 0, maximum: 604800 }), Type.Null()], { default: null }),
  /** `ask`, another `permission_mode`, or null = the global one (wake: the chat's); ADR 0029. */
  permission_mode: Type.Union([Type.Enum(PERMISSION_MODES), Type.Null()], { default: null })
}, { additionalProperties: true })

export type Hook = Static<typeof HookSchema>
export type HookMode = typeof HookModes[number]
export type AuthMode = typeof AuthModes[number]
export type HmacPreset = typeof HmacPresets[number]

/** Fields the service owns: never set through create or update. */
export const ServiceOwnedFields = ['id', 'created_at', 'trigger_count', 'last_triggered_at', 'last_error'] as const

export type HookProblem = { path: string, message: string }

/**
 * Fills defaults into a copy of `raw` and checks it. The copy keeps unknown fields.
 * Returns the hook, or the list of problems (path + message, never a value, so no secret leaks).
 */
export function parseHook (raw: unknown): { ok: true, hook: Hook } | { ok: false, problems: HookProblem[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, problems: [{ path: '/', message: 'must be an object' }] }
  }
  const value = fillDefaults(HookSchema, structuredClone(raw)) as Hook
  if (surelyValid(HookSchema, value) || typeboxValue().Value.Check(HookSchema, value)) return { ok: true, hook: value }
  return { ok: false, problems: describeProblems(value) }
}

function describeProblems (value: unknown): HookProblem[] {
  const seen = new Map<string, string>()
  for (const error of typeboxValue().Value.Errors(HookSchema, value)) {
    const path = error.instancePath === '' ? '/' : error.instancePath
    // anyOf failures repeat per branch; keep one readable message per field.
    if (!seen.has(path)) seen.set(path, allowedFor(path) ?? error.message)
  }
  return [...seen].map(([path, message]) => ({ path, message }))
}

const allowedValues: Record<string, readonly string[]> = {
  '/mode': HookModes,
  '/auth_mode': AuthModes,
  '/hmac_algorithm': HmacAlgorithms,
  '/hmac_encoding': HmacEncodings,
  '/hmac_preset': [...HmacPresets, 'null'],
  '/provider': [...Providers, 'null'],
  '/permission_mode': [...PERMISSION_MODES, 'null']
}

function allowedFor (path: string): string | undefined {
  const values = allowedValues[path]
  if (values !== undefined) return `must be one of ${values.join(', ')}`
  if (path === '/quiet_start' || path === '/quiet_end') return 'must be an hour 0-23 or null'
  if (path === '/timestamp_tolerance_seconds') return 'must be an integer number of seconds, 1-604800'
  if (path === '/dedupe_window_seconds') return 'must be an integer number of seconds, 0-604800, or null (the default of the auth mode)'
  if (path === '/trigger_count') return 'must be an integer >= 0'
  return undefined
}

export function formatProblems (problems: readonly HookProblem[]): string {
  return problems.map((p) => `${p.path.replace(/^\//, '') || 'hook'} ${p.message}`).join('; ')
}

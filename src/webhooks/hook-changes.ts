import { randomBytes } from 'node:crypto'
import { DuctorError, ErrorCodes } from '../errors.ts'
import { type Hook, HookSchema, ServiceOwnedFields, formatProblems, parseHook } from './hook-schema.ts'
import { HOOK_ID_PATTERN, hookConfigProblems } from './hook-validate.ts'
import { halfWindowProblem } from '../automation/quiet-hours.ts'
import { otherProvidersModel } from '../models.ts'

type ServiceOwned = typeof ServiceOwnedFields[number]
type Required = 'id' | 'title' | 'mode' | 'prompt_template'

/** What a caller may give when creating a hook: the required fields plus any settable one. */
export type HookCreateInput = Pick<Hook, Required> & Partial<Omit<Hook, ServiceOwned | Required>>
/** What a caller may change; the id and the service's counters are not settable. */
export type HookPatch = Partial<Omit<Hook, ServiceOwned>>

/** A bearer token: 32 random bytes, url-safe (base64url, 43 characters). */
export function generateHookToken (): string {
  return randomBytes(32).toString('base64url')
}

const knownFields = new Set(Object.keys(HookSchema.properties))
const serviceOwned = new Set<string>(ServiceOwnedFields)
const settable = [...knownFields].filter((f) => !serviceOwned.has(f))

/**
 * The hook to add for `input`: id checked (pattern, unused), service fields set, a bearer token
 * generated when none is given ("" keeps the global one), schema and configuration checked. Throws DuctorError
 * (bad_request / conflict) with a message that names the field and what is allowed.
 */
export function buildNewHook (
  input: HookCreateInput,
  ctx: { now: number, newToken: () => string, taken: (id: string) => boolean }
): Hook {
  const raw = asRecord(input)
  checkFields(raw)
  const id = raw.id
  if (typeof id !== 'string' || !HOOK_ID_PATTERN.test(id)) {
    throw new DuctorError(ErrorCodes.badRequest,
      'id must be 1-64 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit')
  }
  if (ctx.taken(id)) throw new DuctorError(ErrorCodes.conflict, `a webhook with id "${id}" already exists`)
  const candidate: Record<string, unknown> = {
    ...raw,
    created_at: new Date(ctx.now).toISOString(),
    trigger_count: 0,
    last_triggered_at: null,
    last_error: null
  }
  const authMode = raw.auth_mode ?? 'bearer'
  // Left out: a token of its own is generated. "" is the global webhooks.token (SPEC §9), as on update.
  if (authMode === 'bearer' && raw.token === undefined) candidate.token = ctx.newToken()
  return refuseModelMismatch(refuseHalfWindow(checked(candidate)))
}

/** `hook` with `patch` applied, checked like a new hook. Throws DuctorError (bad_request). */
export function applyPatch (hook: Readonly<Hook>, patch: HookPatch): Hook {
  const raw = asRecord(patch)
  checkFields(raw)
  if ('id' in raw && raw.id !== hook.id) {
    throw new DuctorError(ErrorCodes.badRequest, 'id cannot be changed; create a new webhook and delete this one instead')
  }
  // Only a change of the quiet hours is checked: an unrelated edit of a hook a file gave half a window still saves.
  const changed = checked({ ...hook, ...raw })
  if ('provider' in raw || 'model' in raw) refuseModelMismatch(changed)
  return 'quiet_start' in raw || 'quiet_end' in raw ? refuseHalfWindow(changed) : changed
}

/** A model of the other provider than the hook's own (ADR 49); wake hooks too: the pair is kept for a cron_task. */
function refuseModelMismatch (hook: Hook): Hook {
  const problem = otherProvidersModel(hook)
  if (problem !== null) throw new DuctorError(ErrorCodes.badRequest, `invalid webhook: ${problem}`)
  return hook
}

function refuseHalfWindow (hook: Hook): Hook {
  const problem = halfWindowProblem(hook)
  if (problem !== null) throw new DuctorError(ErrorCodes.badRequest, `invalid webhook: ${problem}`)
  return hook
}

function asRecord (value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DuctorError(ErrorCodes.badRequest, 'a webhook must be a JSON object')
  }
  return value as Record<string, unknown>
}

/**
 * Refuses unknown fields (a typo would otherwise be ignored silently) and the service's own ones.
 * `id` passes here: create validates it, update refuses a different one.
 */
function checkFields (raw: Record<string, unknown>): void {
  for (const key of Object.keys(raw)) {
    if (key === 'id') continue
    if (serviceOwned.has(key)) throw new DuctorError(ErrorCodes.badRequest, `${key} is maintained by the service and cannot be set`)
    if (!knownFields.has(key)) {
      throw new DuctorError(ErrorCodes.badRequest, `unknown field "${key}"; settable fields: ${settable.join(', ')}`)
    }
  }
}

function checked (candidate: Record<string, unknown>): Hook {
  const parsed = parseHook(candidate)
  if (!parsed.ok) throw new DuctorError(ErrorCodes.badRequest, `invalid webhook: ${formatProblems(parsed.problems)}`)
  const problems = hookConfigProblems(parsed.hook)
  if (problems.length > 0) throw new DuctorError(ErrorCodes.badRequest, `invalid webhook: ${problems.join('; ')}`)
  return parsed.hook
}

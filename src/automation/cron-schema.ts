import type { Static, TSchema } from 'typebox'
import { Type } from '../schema-type.ts'
import type { Validator } from 'typebox/compile'
import { surelyValid, typeboxCompile, typeboxValue } from '../schema-value.ts'
import { canonicalTimezone } from '../tz.ts'
import { PERMISSION_MODES } from '../config-schema.ts'

/**
 * Cron jobs in the original's snake_case shape (SPEC §8.2). Three schemas:
 * - `CronJobFileSchema`: what one entry of `cron_jobs.json` may look like. Lenient like the original
 *   loader (only id, title, schedule, task_folder, agent_instruction are required; nulls accepted);
 *   unknown fields (`chat_id`, `topic_id`, `transport`, `silent_on_success`, `last_delivery_*`, …)
 *   are allowed and kept, so a file written by the Python ductor loads and is written back intact.
 * - `CronJobSchema`: a job after loading, every SPEC field present (defaults filled in).
 * - `CronJobCreateSchema` / `CronJobPatchSchema`: strict input for creating and editing a job.
 */

const NullableString = Type.Union([Type.String(), Type.Null()])
const Hour = Type.Integer({ minimum: 0, maximum: 23 })
const NullableHour = Type.Union([Hour, Type.Null()])

export const JOB_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$'

const CronJobFileSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  title: Type.String(),
  description: Type.Optional(NullableString),
  schedule: Type.String(),
  task_folder: Type.String(),
  agent_instruction: Type.String(),
  enabled: Type.Optional(Type.Boolean()),
  timezone: Type.Optional(NullableString),
  created_at: Type.Optional(NullableString),
  last_run_at: Type.Optional(NullableString),
  last_run_status: Type.Optional(NullableString),
  provider: Type.Optional(NullableString),
  model: Type.Optional(NullableString),
  reasoning_effort: Type.Optional(NullableString),
  cli_parameters: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  quiet_start: Type.Optional(NullableHour),
  quiet_end: Type.Optional(NullableHour),
  dependency: Type.Optional(NullableString),
  // [beyond] (ADR 0029): checked when the job runs, so one bad value in a hand edit fails that job only.
  permission_mode: Type.Optional(NullableString)
})
export type CronJobFile = Static<typeof CronJobFileSchema>

export const CronJobsFileSchema = Type.Object({ jobs: Type.Array(CronJobFileSchema) })

export const CronJobSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  schedule: Type.String(),
  task_folder: Type.String(),
  agent_instruction: Type.String(),
  enabled: Type.Boolean(),
  /** IANA zone; "" = the user's zone (SPEC §8.2). */
  timezone: Type.String(),
  created_at: Type.String(),
  last_run_at: NullableString,
  last_run_status: NullableString,
  provider: NullableString,
  model: NullableString,
  reasoning_effort: NullableString,
  cli_parameters: Type.Array(Type.String()),
  quiet_start: NullableHour,
  quiet_end: NullableHour,
  dependency: NullableString,
  /** `ask`, another `permission_mode`, or null = the global `permission_mode` (docs/approvals.md). */
  permission_mode: NullableString
})
export type CronJob = Static<typeof CronJobSchema>

const editable = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 10_000 }),
  schedule: Type.String({ minLength: 1, maxLength: 200 }),
  task_folder: Type.String({ pattern: JOB_ID_PATTERN }),
  agent_instruction: Type.String({ minLength: 1, maxLength: 10_000 }),
  enabled: Type.Boolean(),
  timezone: Type.String({ maxLength: 100 }),
  provider: Type.Union([Type.Literal('claude'), Type.Literal('codex'), Type.Null()]),
  model: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
  reasoning_effort: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('xhigh'), Type.Null()]),
  cli_parameters: Type.Array(Type.String({ maxLength: 1_000 }), { maxItems: 50 }),
  quiet_start: NullableHour,
  quiet_end: NullableHour,
  dependency: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]),
  permission_mode: Type.Union([Type.Enum(PERMISSION_MODES), Type.Null()], {
    description: 'ask: the job asks the chats it reports to before a risky tool (docs/approvals.md); null = the global permission_mode'
  })
}

export const CronJobCreateSchema = Type.Object({
  id: Type.String({ pattern: JOB_ID_PATTERN }),
  title: editable.title,
  schedule: editable.schedule,
  description: Type.Optional(editable.description),
  task_folder: Type.Optional(editable.task_folder),
  agent_instruction: Type.Optional(editable.agent_instruction),
  enabled: Type.Optional(editable.enabled),
  timezone: Type.Optional(editable.timezone),
  provider: Type.Optional(editable.provider),
  model: Type.Optional(editable.model),
  reasoning_effort: Type.Optional(editable.reasoning_effort),
  cli_parameters: Type.Optional(editable.cli_parameters),
  quiet_start: Type.Optional(editable.quiet_start),
  quiet_end: Type.Optional(editable.quiet_end),
  dependency: Type.Optional(editable.dependency),
  permission_mode: Type.Optional(editable.permission_mode)
}, { additionalProperties: false })
export type CronJobCreate = Static<typeof CronJobCreateSchema>

export const CronJobPatchSchema = Type.Object({
  title: Type.Optional(editable.title),
  schedule: Type.Optional(editable.schedule),
  description: Type.Optional(editable.description),
  task_folder: Type.Optional(editable.task_folder),
  agent_instruction: Type.Optional(editable.agent_instruction),
  enabled: Type.Optional(editable.enabled),
  timezone: Type.Optional(editable.timezone),
  provider: Type.Optional(editable.provider),
  model: Type.Optional(editable.model),
  reasoning_effort: Type.Optional(editable.reasoning_effort),
  cli_parameters: Type.Optional(editable.cli_parameters),
  quiet_start: Type.Optional(editable.quiet_start),
  quiet_end: Type.Optional(editable.quiet_end),
  dependency: Type.Optional(editable.dependency),
  permission_mode: Type.Optional(editable.permission_mode)
}, { additionalProperties: false })
export type CronJobPatch = Static<typeof CronJobPatchSchema>

/** The instruction a new job gets when none is given. */
export const DEFAULT_AGENT_INSTRUCTION = 'Read TASK_DESCRIPTION.md in this folder and carry out the task it describes. Finish with the result for the user.'

/** The first reason `value` does not match `schema`, as `path: message`, or null when it matches. */
/**
 * A job is first checked by `surelyValid` (schema-value.ts), which loads nothing; only a job it does
 * not vouch for goes to TypeBox's compiled check, one per schema (`Value.Check` interprets the schema
 * on every call, about 50× slower: 10,000 jobs ~1 s instead of ~20 ms; docs/benchmarks.md, P7).
 * Errors come from `Value.Errors`, only on the failure path.
 */
const compiled = new WeakMap<TSchema, Validator>()

function check (schema: TSchema, value: unknown): boolean {
  // A valid job never loads typebox/compile or typebox/value (ADR 47): idle RSS.
  if (surelyValid(schema, value)) return true
  let validator = compiled.get(schema)
  if (validator === undefined) {
    validator = typeboxCompile().Compile(schema)
    compiled.set(schema, validator)
  }
  return validator.Check(value)
}

export function schemaProblem (schema: TSchema, value: unknown): string | null {
  if (check(schema, value)) return null
  const [error] = typeboxValue().Value.Errors(schema, value)
  if (error === undefined) return 'invalid value'
  const path = error.instancePath === '' ? '(root)' : error.instancePath.slice(1).replaceAll('/', '.')
  const params = error.params as { additionalProperties?: unknown[], requiredProperties?: unknown[] }
  const names = params.additionalProperties ?? params.requiredProperties
  return `${path}: ${error.message}${Array.isArray(names) ? ` (${names.join(', ')})` : ''}`
}

/** A loaded job with every SPEC field present. Unknown fields and their order are kept. */
function normalizeCronJob (raw: CronJobFile): CronJob {
  const job: Record<string, unknown> = { ...raw }
  const defaults: Omit<CronJob, 'id' | 'title' | 'schedule' | 'task_folder' | 'agent_instruction'> = {
    description: '',
    enabled: true,
    timezone: '',
    created_at: '',
    last_run_at: null,
    last_run_status: null,
    provider: null,
    model: null,
    reasoning_effort: null,
    cli_parameters: [],
    quiet_start: null,
    quiet_end: null,
    dependency: null,
    permission_mode: null
  }
  for (const [key, value] of Object.entries(defaults)) {
    // `description`/`timezone`/`created_at`/`cli_parameters` are never null after loading.
    if (job[key] === undefined || (job[key] === null && (value !== null))) job[key] = value
  }
  // A known zone is kept in its canonical spelling (`europe/berlin` → `Europe/Berlin`); an unknown one
  // stays as typed, so the job can show what is wrong with it (and does not run).
  job['timezone'] = canonicalTimezone(job['timezone']) ?? job['timezone']
  return job as CronJob
}

/**
 * The JSON object written for a job: like the original, `timezone` is left out when empty; so is our
 * `permission_mode` when null (a job that never set it is written as the Python version wrote it).
 */
export function serializeCronJob (job: CronJob): Record<string, unknown> {
  const out: Record<string, unknown> = { ...job }
  if (job.timezone === '') delete out.timezone
  if (job.permission_mode === null) delete out.permission_mode
  return out
}

export type ParsedCronJobs =
  | { ok: true, jobs: CronJob[], extra: Record<string, unknown> }
  | { ok: false, problem: string }

/** Validates a parsed `cron_jobs.json` (`{ jobs: [...] }`, ids unique). Other top-level keys are kept in `extra`. */
export function parseCronJobsDocument (raw: unknown): ParsedCronJobs {
  const problem = schemaProblem(CronJobsFileSchema, raw)
  if (problem !== null) return { ok: false, problem }
  const { jobs, ...extra } = raw as Static<typeof CronJobsFileSchema>
  const seen = new Set<string>()
  for (const job of jobs) {
    if (seen.has(job.id)) return { ok: false, problem: `jobs: id "${job.id}" appears more than once` }
    seen.add(job.id)
  }
  return { ok: true, jobs: jobs.map(normalizeCronJob), extra }
}

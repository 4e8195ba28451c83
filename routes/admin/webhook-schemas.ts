import { Type } from '../../src/schema-type.ts'
import { PERMISSION_MODES } from '../../src/config-schema.ts'
import { AuthModes, HmacAlgorithms, HmacEncodings, HmacPresets, HookModes, HookSchema, Providers } from '../../src/webhooks/hook-schema.ts'

/**
 * Admin API shapes for webhooks (SPEC §9, §10): bodies use the field names of webhooks.json.
 * Bodies carry no defaults (Fastify's validator would fill them into a PATCH) and accept any field,
 * so the store can refuse an unknown one by name instead of dropping it silently.
 * Responses never contain `hmac_secret`; `token` appears only in the create and rotate answers.
 */
const NullableString = (max: number) => Type.Union([Type.String({ maxLength: max }), Type.Null()])
const NullableHour = Type.Union([Type.Integer({ minimum: 0, maximum: 23 }), Type.Null()])
/**
 * A choice among `values`, checked by the store (its message lists what is allowed; the validator's
 * "must be equal to constant" does not). The values are in the OpenAPI description.
 */
const oneOf = (values: readonly string[], description?: string) =>
  Type.String({ maxLength: 50, description: `one of ${values.join(', ')}${description === undefined ? '' : `. ${description}`}` })
const Str = (max: number, description?: string) => Type.String({ maxLength: max, ...(description !== undefined && { description }) })

const editable = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Str(10_000),
  mode: oneOf(HookModes, 'wake: the prompt enters each allowed user\'s chat; cron_task: an isolated run in cron_tasks/<task_folder>/'),
  prompt_template: Type.String({ minLength: 1, maxLength: 50_000, description: '{{field}} placeholders filled from the JSON payload; dotted paths like {{pull_request.title}}' }),
  enabled: Type.Boolean(),
  task_folder: NullableString(100),
  auth_mode: oneOf(AuthModes),
  token: Type.String({ maxLength: 512, description: 'bearer token (at least 16 characters); generated when omitted on create; "" = use the global webhooks.token. Write-only: shown only in the create and rotate-token answers' }),
  hmac_secret: Type.String({ maxLength: 1024, description: 'signing secret (hmac, standard). Write-only: never shown' }),
  hmac_header: Str(200),
  hmac_algorithm: oneOf(HmacAlgorithms),
  hmac_encoding: oneOf(HmacEncodings),
  hmac_sig_prefix: Str(100),
  hmac_sig_regex: Str(500),
  hmac_payload_prefix_regex: Str(500),
  provider: Type.Union([oneOf(Providers), Type.Null()]),
  model: NullableString(100),
  reasoning_effort: NullableString(20),
  cli_parameters: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }),
  quiet_start: NullableHour,
  quiet_end: NullableHour,
  dependency: NullableString(100),
  hmac_preset: Type.Union([oneOf(HmacPresets, 'sign like this service; the generic hmac_* knobs are then ignored'), Type.Null()]),
  dedupe_header: NullableString(200),
  timestamp_tolerance_seconds: Type.Integer({ minimum: 1, maximum: 604800 }),
  dedupe_window_seconds: Type.Union([Type.Integer({ minimum: 0, maximum: 604800 }), Type.Null()], {
    description: 'an identical body within this many seconds is answered 200 duplicate; null = the default (86400 for hmac_preset github, else 0 = off)'
  }),
  permission_mode: Type.Union([oneOf(PERMISSION_MODES, 'ask: the hook\'s runs ask the chats they report to before a risky tool (docs/approvals.md); null = the global permission_mode (wake: the chat\'s)'), Type.Null()])
}
const optional = Object.fromEntries(Object.entries(editable).map(([key, schema]) => [key, Type.Optional(schema)])) as {
  [K in keyof typeof editable]: ReturnType<typeof Type.Optional<typeof editable[K]>>
}
const TaskDescription = Type.String({ minLength: 1, maxLength: 50_000, description: 'cron_task hooks: the text of the task folder\'s TASK_DESCRIPTION.md' })

export const HookCreateBody = Type.Object({
  ...optional,
  id: Type.String({ description: '1-64 characters: a-z, 0-9, - and _; the URL is /hooks/<id>' }),
  title: editable.title,
  mode: editable.mode,
  prompt_template: editable.prompt_template,
  task_description: Type.Optional(TaskDescription)
})

export const HookPatchBody = Type.Object({ ...optional, task_description: Type.Optional(TaskDescription) })

const { token: _token, hmac_secret: _secret, ...publicFields } = HookSchema.properties

/** A hook as the API shows it: every field of webhooks.json except the secrets, which show as set or not. */
const HookPublicSchema = Type.Object({
  ...publicFields,
  token_set: Type.Boolean({ description: 'whether the hook has its own bearer token' }),
  hmac_secret_set: Type.Boolean()
}, { additionalProperties: false })

const AuthHelpSchema = Type.Object({
  scheme: Type.String(),
  header: Type.String(),
  instructions: Type.String()
})

export const HookViewSchema = Type.Object({
  hook: HookPublicSchema,
  endpoint_url: Type.String({ description: 'where senders POST: server.public_url + /hooks/<id>, else the local address' }),
  auth: AuthHelpSchema,
  replay: Type.Object({
    delivery_id: Type.String({ description: 'where the delivery id is read; a repeated one is answered 200 duplicate' }),
    body_window_seconds: Type.Integer({ description: 'how long the same body again is a duplicate; 0 = not checked' }),
    body_kept_from: Type.Union([Type.Literal('all'), Type.Literal('github'), Type.Literal('none')], { description: 'which deliveries leave their body behind: all, github (only those with X-GitHub-Delivery: a hook signed like GitHub without its own dedupe_window_seconds), none' }),
    github_scheme: Type.Boolean({ description: 'the hook signs exactly like GitHub (hmac_preset github, or the generic hmac_* fields set as GitHub signs, e.g. a hook from the Python ductor)' }),
    description: Type.String()
  }, { description: 'what answers a delivery as a duplicate (docs/security.md)' }),
  ingress_enabled: Type.Boolean({ description: 'webhooks.enabled: false means every delivery is refused' })
})

export const HookWithTokenSchema = Type.Object({
  ...HookViewSchema.properties,
  token: Type.Optional(Type.String({ description: 'the bearer token; shown here and in the rotate-token answer only' }))
})

export const HookTestBody = Type.Object({
  payload: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'sample JSON payload; default: one that fills every placeholder with <path>' }))
})

export const HookTestResult = Type.Object({
  accepted: Type.Boolean(),
  hook_id: Type.String(),
  delivery_id: Type.String(),
  rendered: Type.String({ description: 'the prompt the agent gets: the filled template between the untrusted-input markers' })
})

import type { Static, TSchema } from 'typebox'
import { Type } from './schema-type.ts'

/**
 * The one configuration schema (SPEC §2): validation, defaults, documentation
 * (docs/configuration.md is generated from it) and the TypeScript type all come from here.
 * Objects allow unknown keys, so a config written by the original Python ductor loads unchanged.
 */
const open = { additionalProperties: true } as const

const oneOf = <const T extends string[]>(values: readonly [...T], options: { default: T[number], description: string }) =>
  Type.Enum(values, options)

const LOG_LEVELS: ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL', 'FATAL',
  'trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'fatal'] = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL', 'FATAL',
  'trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'fatal']

const int = (min: number, max: number, def: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: def, description })

const nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Union([Type.Null(), schema], { default: null, description })

export const StreamingSchema = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Stream replies into Telegram by editing a message as text arrives.' }),
  min_chars: int(1, 4096, 200, 'Characters to collect before a chunk is flushed in append mode.'),
  max_chars: int(100, 4096, 4000, 'Largest chunk sent at once in append mode.'),
  idle_ms: int(0, 60000, 800, 'Flush a pending chunk after this much silence from the CLI (ms).'),
  edit_interval_seconds: Type.Number({ minimum: 0.5, maximum: 60, default: 2.0, description: 'Minimum time between two edits of the live message (s).' }),
  max_edit_failures: int(1, 100, 3, 'Consecutive failed edits before the stream falls back to new messages.'),
  append_mode: Type.Boolean({ default: false, description: 'Send each chunk as a new message instead of editing one.' }),
  sentence_break: Type.Boolean({ default: true, description: 'In append mode, prefer to cut chunks at sentence ends.' })
}, { ...open, default: {} })

const DockerSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Run the CLIs inside a Docker sandbox container (docs/sandbox.md); when Docker is not usable they run on the host, with a warning.' }),
  image_name: Type.String({ default: 'ductor-sandbox', description: 'Image of the sandbox container.' }),
  container_name: Type.String({ default: 'ductor-sandbox', description: 'Name of the sandbox container (created, started and recreated by ductor).' }),
  auto_build: Type.Boolean({ default: true, description: 'Build the sandbox image from the shipped sandbox/Dockerfile when it is missing.' })
}, { ...open, default: {} })

const MediaSchema = Type.Object({
  transcribe_voice: Type.Boolean({ default: false, description: 'Transcribe voice notes before the prompt is built, so the agent receives the text (needs media.stt_url or a local whisper).' }),
  stt_url: Type.String({ default: '', description: 'Base URL of an OpenAI-compatible speech-to-text API (e.g. https://api.openai.com/v1; ductor POSTs to <url>/audio/transcriptions); empty = none, a local whisper is used if present.' }),
  stt_api_key: Type.String({ default: '', description: 'API key sent as a bearer token to media.stt_url.', secret: true }),
  stt_model: Type.String({ minLength: 1, default: 'whisper-1', description: 'Model name sent to the speech-to-text API.' }),
  whisper_binary: Type.String({ default: '', description: 'Local whisper when no API is set: path to whisper-cli (whisper.cpp) or whisper (openai-whisper); empty = found on PATH.' }),
  whisper_model: Type.String({ default: '', description: 'Model for the local whisper: a ggml file for whisper-cli (-m), a model name for whisper (--model); empty = its default.' }),
  max_frames: int(1, 16, 8, 'Most key frames `ductor media video` extracts from one video.')
}, { ...open, default: {} })

const SkillsSchema = Type.Object({
  sync: Type.Boolean({ default: true, description: 'Keep workspace/skills, ~/.claude/skills and ~/.codex/skills in sync with symlinks (every 30 s; our links are removed at shutdown).' })
}, { ...open, default: {} })

const HeartbeatSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Periodic check-ins inside the live chat session.' }),
  interval_minutes: int(1, 10080, 30, 'Minutes between heartbeat ticks.'),
  cooldown_minutes: int(0, 10080, 5, 'Skip the heartbeat when the user was active this recently (min).'),
  quiet_start: int(0, 23, 21, 'Start of the heartbeat\'s quiet hours (local hour); cron jobs and webhook tasks do not use it.'),
  quiet_end: int(0, 23, 8, 'End of quiet hours (local hour). Equal to quiet_start means no quiet hours.'),
  prompt: Type.String({
    default: 'Heartbeat check-in. Review your memory and any pending tasks. If there is something worth telling the user, say it briefly; otherwise reply with exactly HEARTBEAT_OK.',
    description: 'Prompt run inside the session on each heartbeat.'
  }),
  ack_token: Type.String({ minLength: 1, default: 'HEARTBEAT_OK', description: 'A reply that is only this token is dropped silently.' })
}, { ...open, default: {} })

const nullableHour = (description: string) => nullable(Type.Integer({ minimum: 0, maximum: 23 }), description)

const CronSchema = Type.Object({
  quiet_start: nullableHour('Cron-wide quiet hours: start (local hour) for cron jobs and webhook tasks without their own window; null = none.'),
  quiet_end: nullableHour('Cron-wide quiet hours: end (local hour); both must be set for the window to apply.')
}, { ...open, default: {} })

const CleanupSchema = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Delete old files the user sent and the agent produced.' }),
  telegram_files_days: int(1, 36500, 30, 'Age (days) after which files in workspace/telegram_files/ are deleted.'),
  output_to_user_days: int(1, 36500, 30, 'Age (days) after which files in workspace/output_to_user/ are deleted.'),
  check_hour: int(0, 23, 3, 'Local hour of the daily cleanup.')
}, { ...open, default: {} })

const WebhooksSchema = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'Accept external webhooks at POST /hooks/:hookId.' }),
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Listen address (also the server\'s unless server.host is set).' }),
  port: int(1, 65535, 8742, 'Listen port (also the server\'s unless server.port is set).'),
  token: Type.String({ default: '', description: 'Global bearer token for hooks without their own (generated).', secret: true }),
  max_body_bytes: int(1024, 104857600, 262144, 'Largest webhook body accepted (bytes); larger gets 413.'),
  rate_limit_per_minute: int(1, 100000, 30, 'Requests per minute per hook and client address; more gets 429.')
}, { ...open, default: {} })

const ServerSchema = Type.Object({
  host: nullable(Type.String({ minLength: 1 }), 'Listen address of the one HTTP server; null = webhooks.host.'),
  port: nullable(Type.Integer({ minimum: 0, maximum: 65535 }), 'Listen port; null = webhooks.port (0 = any free port).'),
  public_url: Type.String({ default: '', description: 'Public HTTPS base URL behind the reverse proxy; set = Telegram webhook mode.' }),
  trust_proxy: Type.Union([
    Type.Boolean(),
    Type.Integer({ minimum: 1, maximum: 16 }),
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })
  ], {
    default: false,
    description: 'Which reverse proxy to believe about the client address (X-Forwarded-For): its addresses or CIDR ranges ' +
      '(a list, or one comma-separated string; "loopback" = 127.0.0.0/8 and ::1), or the number of proxies in front. ' +
      'false = none. true is read as "loopback" (ductor doctor warns).'
  })
}, { ...open, default: {} })

const TelegramSchema = Type.Object({
  mode: oneOf(['auto', 'webhook', 'polling'], { default: 'auto', description: 'webhook, polling, or auto (webhook when server.public_url is set).' }),
  webhook_path: Type.String({ pattern: '^/[A-Za-z0-9/_-]*$', default: '/telegram/webhook', description: 'Route Telegram posts updates to.' }),
  webhook_secret: Type.String({ default: '', description: 'secret_token given to setWebhook (generated).', secret: true }),
  api_root: Type.String({ pattern: '^https?://', default: 'https://api.telegram.org', description: 'Base URL of the Bot API (a self-hosted Bot API server or a test double).' }),
  group_mode: oneOf(['all', 'addressed'], { default: 'all', description: 'Groups: all = every text message of an allowed user is answered, media only when addressed (as in the Python version); addressed = only mentions, replies to the bot and commands.' }),
  update_check_hours: int(0, 720, 1, 'Hours between checks for a newer ductor (git upstream of a checkout, else the npm registry); a newer one is announced once in each allowed user\'s chat with Changelog / Upgrade / Later buttons. 0 = never.')
}, { ...open, default: {} })

const AdminSchema = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Serve the admin REST API under /api.' }),
  token: Type.String({ default: '', description: 'Bearer token of the admin API (generated).', secret: true }),
  allow_proxied: Type.Boolean({ default: false, description: 'Accept admin requests carrying proxy headers (X-Forwarded-For, Forwarded, Via, …).' }),
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address of the admin API\'s own listener; /api is served there only, never on server.host/server.port.' }),
  port: nullable(Type.Integer({ minimum: 0, maximum: 65535 }), 'Port of the admin API\'s listener; null = the server\'s port + 1 (8743), or any free port when the server\'s is 0.')
}, { ...open, default: {} })

/** `permission_mode` values; `ask` is ductor's own (src/core/approvals.ts), the others are Claude's. */
export const PERMISSION_MODES: ['ask', 'default', 'acceptEdits', 'plan', 'bypassPermissions', 'dontAsk'] = ['ask', 'default', 'acceptEdits', 'plan', 'bypassPermissions', 'dontAsk']

const ApprovalsSchema = Type.Object({
  timeout_seconds: int(1, 3600, 300, 'How long a tool request waits for an answer (permission_mode "ask"); unanswered, it is denied.'),
  chats: Type.Record(Type.String({ pattern: '^-?[A-Za-z0-9_]{1,64}$' }), Type.Enum(PERMISSION_MODES), {
    default: {},
    description: 'permission_mode per chat id (e.g. {"123456789": "ask"}); a chat not listed uses permission_mode.'
  })
}, { ...open, default: {} })

const LimitsSchema = Type.Object({
  max_concurrent_runs: int(1, 256, 4, 'CLI processes at once across all chats and automations.')
}, { ...open, default: {} })

const CliPathsSchema = Type.Object({
  claude: Type.String({ default: '', description: 'Path to the claude binary; empty = found on PATH.' }),
  codex: Type.String({ default: '', description: 'Path to the codex binary; empty = found on PATH.' })
}, { ...open, default: {} })

export const ConfigSchema = Type.Object({
  telegram_token: Type.String({ default: '', description: 'Bot token from @BotFather; empty = Telegram adapter off.', secret: true }),
  allowed_user_ids: Type.Array(Type.Integer(), { default: [], description: 'Telegram user ids allowed to talk to the bot.' }),
  provider: oneOf(['claude', 'codex'], { default: 'claude', description: 'Default CLI.' }),
  model: Type.String({ minLength: 1, default: 'opus', description: 'Default model.' }),
  reasoning_effort: oneOf(['low', 'medium', 'high', 'xhigh'], { default: 'medium', description: 'Codex reasoning level.' }),
  provider_fallback: Type.Boolean({ default: true, description: 'When the chosen CLI is not logged in and the other one is, answer with the other\'s equivalent model (as the Python ductor did), saying so in the chat and /status; false = fail with the login hint.' }),
  permission_mode: oneOf(PERMISSION_MODES, {
    default: 'bypassPermissions',
    description: 'Passed to Claude; `ask` = Claude asks you in Telegram or the admin API before a risky tool (docs/approvals.md). Codex: bypassPermissions = --dangerously-bypass-approvals-and-sandbox, else --sandbox workspace-write.'
  }),
  approvals: ApprovalsSchema,
  cli_timeout: Type.Number({ minimum: 1, maximum: 86400, default: 600, description: 'Seconds per CLI run.' }),
  cli_parameters: Type.Object({
    claude: Type.Array(Type.String(), { default: [] }),
    codex: Type.Array(Type.String(), { default: [] })
  }, { ...open, default: {}, description: 'Extra CLI flags per provider, placed before `--`.' }),
  max_turns: nullable(Type.Integer({ minimum: 1 }), 'Passed to Claude as --max-turns when set.'),
  max_budget_usd: nullable(Type.Number({ exclusiveMinimum: 0 }), 'Passed to Claude as --max-budget-usd when set.'),
  idle_timeout_minutes: int(0, 5256000, 1440, 'A session expires after this idle time (0 = never).'),
  max_session_messages: nullable(Type.Integer({ minimum: 1 }), 'A session rolls over after this many messages.'),
  daily_reset_enabled: Type.Boolean({ default: false, description: 'Start a fresh session at daily_reset_hour.' }),
  daily_reset_hour: int(0, 23, 4, 'Local hour of the daily session reset.'),
  session_age_warning_hours: Type.Number({ minimum: 0, default: 12, description: 'Past this age, suggest /new every 10th message (0 = off).' }),
  user_timezone: Type.String({ default: '', description: 'IANA time zone; empty = $TZ, the host zone, then UTC.' }),
  file_access: oneOf(['all', 'home', 'workspace'], { default: 'all', description: 'Which files the agent may send: all, home (the user\'s home folder, as in the Python version) or workspace.' }),
  log_level: oneOf(LOG_LEVELS, { default: 'INFO', description: 'DEBUG, INFO, WARNING, ERROR or CRITICAL (lower case works too).' }),
  streaming: StreamingSchema,
  docker: DockerSchema,
  media: MediaSchema,
  skills: SkillsSchema,
  heartbeat: HeartbeatSchema,
  cron: CronSchema,
  cleanup: CleanupSchema,
  webhooks: WebhooksSchema,
  server: ServerSchema,
  telegram: TelegramSchema,
  admin: AdminSchema,
  limits: LimitsSchema,
  cli_paths: CliPathsSchema
}, open)

export type Config = Static<typeof ConfigSchema>

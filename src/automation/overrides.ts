import { PERMISSION_MODES } from '../config-schema.ts'

/**
 * Per-task overrides (SPEC §8.1): a cron job or hook task may set `provider`, `model`,
 * `reasoning_effort` (Codex only) and `cli_parameters`; what it leaves out comes from the global
 * config. A task whose override cannot work gets an error result for that task only.
 *
 * Rules:
 * - provider: the task's, else the provider its model belongs to (`model: "sonnet"` alone means
 *   Claude, `"gpt-5"` alone means Codex — like the `@model` chat directive), else the global one.
 * - model: the task's; else the global model when the provider is the global provider; else the
 *   provider's own default: `opus` for Claude (the config default), none for Codex (no `--model`, so
 *   the Codex CLI uses what its own config says).
 * - known models: Claude `opus` `sonnet` `haiku` or a full `claude-…` id; Codex a `gpt-…`, `o<digit>…`
 *   or `codex-…` id. The configured global model is always accepted for the global provider (the
 *   config is validated elsewhere; a task must not fail for inheriting it).
 * - reasoning_effort: Codex only (`low` `medium` `high` `xhigh`); ignored for Claude.
 * - cli_parameters: the global list for the provider, then the task's (the CLI's last flag wins).
 * - permission_mode: the task's (one of the config's `permission_mode` values), else the global one
 *   (ADR 0029; `ask` makes the run ask the chats it reports to, docs/approvals.md).
 */

import { CLAUDE_MODELS, PROVIDERS, REASONING_EFFORTS, providerOfModel, type ProviderName, type ReasoningEffort } from '../models.ts'

export interface TaskOverrideFields {
  provider?: string | null
  model?: string | null
  reasoning_effort?: string | null
  cli_parameters?: readonly string[] | null
  permission_mode?: string | null
}

/** The global config keys the resolution needs (a structural subset of the config). */
export interface GlobalRunDefaults {
  provider: string
  model: string
  reasoning_effort: string
  cli_parameters: Partial<Record<ProviderName, readonly string[]>>
  permission_mode: string
}

export interface ResolvedTaskRun {
  provider: ProviderName
  /** null: pass no `--model` (Codex's own default). */
  model: string | null
  /** Codex only; null for Claude or when none applies. */
  reasoningEffort: ReasoningEffort | null
  cliParameters: string[]
  /** `ask` (ductor's approvals) or a mode passed to the CLI. */
  permissionMode: string
}

export type OverrideResult = { ok: true, value: ResolvedTaskRun } | { ok: false, error: string }

function clean (value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null
  const text = value.trim()
  return text === '' ? null : text
}

function isProvider (value: string): value is ProviderName {
  return (PROVIDERS as readonly string[]).includes(value)
}

function isEffort (value: string): value is ReasoningEffort {
  return (REASONING_EFFORTS as readonly string[]).includes(value)
}

/** Resolves a task's provider, model, reasoning effort and CLI parameters against the global config. */
export function resolveTaskOverrides (task: TaskOverrideFields, defaults: GlobalRunDefaults): OverrideResult {
  const taskProvider = clean(task.provider)?.toLowerCase() ?? null
  const taskModel = clean(task.model)?.toLowerCase() ?? null
  const globalProvider = defaults.provider.trim().toLowerCase()

  const provider = taskProvider ?? (taskModel === null ? null : providerOfModel(taskModel)) ?? globalProvider
  if (!isProvider(provider)) {
    return { ok: false, error: `provider "${provider}" is not supported; use ${PROVIDERS.join(' or ')}` }
  }

  let model: string | null
  if (taskModel !== null) {
    const inherited = provider === globalProvider && taskModel === clean(defaults.model)?.toLowerCase()
    if (!inherited && providerOfModel(taskModel) !== provider) {
      const known = provider === 'claude'
        ? `${CLAUDE_MODELS.join(', ')} or a claude-… model id`
        : 'a gpt-…, o… or codex-… model id'
      return { ok: false, error: `unknown ${provider} model "${taskModel}"; use ${known}` }
    }
    model = taskModel
  } else if (provider === globalProvider) {
    model = clean(defaults.model)
  } else {
    model = provider === 'claude' ? 'opus' : null
  }

  let reasoningEffort: ReasoningEffort | null = null
  if (provider === 'codex') {
    const own = clean(task.reasoning_effort)?.toLowerCase() ?? null
    if (own !== null) {
      if (!isEffort(own)) return { ok: false, error: `reasoning_effort "${own}" is not one of ${REASONING_EFFORTS.join(', ')}` }
      reasoningEffort = own
    } else {
      const inherited = clean(defaults.reasoning_effort)?.toLowerCase() ?? ''
      reasoningEffort = isEffort(inherited) ? inherited : null
    }
  }

  const ownMode = clean(task.permission_mode)
  if (ownMode !== null && !(PERMISSION_MODES as readonly string[]).includes(ownMode)) {
    return { ok: false, error: `permission_mode "${ownMode}" is not one of ${PERMISSION_MODES.join(', ')} (or null for the global one)` }
  }
  const permissionMode = ownMode ?? defaults.permission_mode

  const cliParameters = [...(defaults.cli_parameters[provider] ?? []), ...(task.cli_parameters ?? [])]
  return { ok: true, value: { provider, model, reasoningEffort, cliParameters, permissionMode } }
}

/** The CLIs ductor runs (declared here, beside their models, so that the config can check both). */
export const PROVIDERS = ['claude', 'codex'] as const
export type ProviderName = typeof PROVIDERS[number]

/**
 * The models a user can pick (SPEC §4 `/model`, §5 `@model`, §8.1 overrides). Claude takes its aliases
 * or a full `claude-…` id; Codex takes OpenAI model ids (`gpt-…`, `o<digit>…`, `codex-…`). Anything
 * else is an unknown model: an error for that message or task, never for the service.
 */
export const CLAUDE_MODELS = ['opus', 'sonnet', 'haiku'] as const
export const CODEX_MODELS = ['gpt-5.5', 'gpt-5.5-codex', 'gpt-5.5-mini'] as const
export const REASONING_EFFORTS = ['low', 'medium', 'high', 'xhigh'] as const
export type ReasoningEffort = typeof REASONING_EFFORTS[number]

const CLAUDE_ID = /^claude-[a-z0-9.-]+$/
const CODEX_ID = /^(gpt-[a-z0-9.-]+|o\d[a-z0-9.-]*|codex-[a-z0-9.-]+)$/

/** The provider a model belongs to, or null when the name is not a model ductor knows how to run. */
export function providerOfModel (model: string): ProviderName | null {
  const m = model.trim().toLowerCase()
  if ((CLAUDE_MODELS as readonly string[]).includes(m) || CLAUDE_ID.test(m)) return 'claude'
  if (CODEX_ID.test(m)) return 'codex'
  return null
}

/**
 * The Codex models the installed `codex` offers (`codex debug models`, src/ops/codex-models.ts),
 * once known: then they are the choices, and a typed Codex id must be one of them. Until then (or
 * when the installed codex cannot tell) the fixed list is offered and any gpt-…/o… id is accepted.
 */
let codexCatalog: readonly string[] | null = null

export function setCodexCatalog (models: readonly string[] | null): void {
  codexCatalog = models !== null && models.length > 0 ? [...models] : null
}

export function modelChoices (provider: ProviderName): readonly string[] {
  return provider === 'claude' ? CLAUDE_MODELS : codexCatalog ?? CODEX_MODELS
}

/** Why a Codex model id cannot be used here (not offered by the installed codex), or null when it can. */
export function refuseCodexModel (model: string): string | null {
  if (codexCatalog === null || codexCatalog.includes(model.trim().toLowerCase())) return null
  return `Codex has no model "${model}" here. The installed codex offers: ${codexCatalog.join(', ')}.`
}

export function describeKnownModels (): string {
  const codex = codexCatalog === null ? `${CODEX_MODELS.join(', ')} (or another gpt-…/o… id)` : codexCatalog.join(', ')
  return `Claude: ${CLAUDE_MODELS.join(', ')} (or a claude-… id); Codex: ${codex}`
}

/** The models `provider` takes, in words: its choices and, where any id of its family runs, that. */
export function modelsOf (provider: ProviderName): string {
  if (provider === 'claude') return `${CLAUDE_MODELS.join(', ')} or a claude-… id`
  return codexCatalog === null ? `${CODEX_MODELS.join(', ')} or another gpt-…/o… id` : codexCatalog.join(', ')
}

/**
 * Why a task (cron job, webhook) that names both cannot run `model` on `provider`: the model is the
 * other provider's (ADR 49). Null when it fits, when either is not set (a model alone picks its
 * provider), or when the model is one ductor does not recognise (that fails at run time, as before).
 */
export function otherProvidersModel (task: { provider?: string | null, model?: string | null }): string | null {
  const provider = task.provider
  if (typeof task.model !== 'string' || (provider !== 'claude' && provider !== 'codex')) return null
  const owner = providerOfModel(task.model)
  if (owner === null || owner === provider) return null
  return `model "${task.model}" is a ${owner === 'claude' ? 'Claude' : 'Codex'} model, but the provider is ${provider}; use one of ${modelsOf(provider)}, or set "provider": "${owner}" too`
}

/** The Python ductor's table of equivalent models across providers (its `_MODEL_EQUIVALENCE`). */
const EQUIVALENT: Record<string, string> = {
  opus: 'gpt-5.2-codex',
  sonnet: 'gpt-5.1-codex-mini',
  haiku: 'gpt-5.1-codex-mini',
  'gpt-5.2-codex': 'opus',
  'gpt-5.1-codex-max': 'opus',
  'gpt-5.1-codex-mini': 'sonnet',
  'gpt-5.2': 'opus',
  'gpt-5.3-codex': 'opus'
}

/**
 * The model of `to` that stands in for `model` when its own provider cannot run (the provider
 * fallback, ADR 0028): the Python version's table when `to` offers that model; else by size — a
 * small model (haiku, sonnet, a `…mini`) becomes the other side's small one, anything else its
 * first (strongest) choice.
 */
export function equivalentModel (model: string, to: ProviderName): string {
  const m = model.trim().toLowerCase()
  const choices = modelChoices(to)
  const listed = EQUIVALENT[m]
  if (listed !== undefined && providerOfModel(listed) === to && choices.includes(listed)) return listed
  const small = /haiku|sonnet|mini/.test(m)
  if (to === 'claude') return small ? 'sonnet' : 'opus'
  return (small ? choices.find((c) => c.includes('mini')) : undefined) ?? choices[0] ?? model
}

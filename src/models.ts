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

export function modelChoices (provider: ProviderName): readonly string[] {
  return provider === 'claude' ? CLAUDE_MODELS : CODEX_MODELS
}

export function describeKnownModels (): string {
  return `Claude: ${CLAUDE_MODELS.join(', ')} (or a claude-… id); Codex: ${CODEX_MODELS.join(', ')} (or another gpt-…/o… id)`
}

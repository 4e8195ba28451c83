import type { ProviderName } from '../../providers/events.ts'
import { modelChoices, providerOfModel, REASONING_EFFORTS } from '../../models.ts'
import { escapeHtml } from '../format/html.ts'
import { button, type Panel } from './keyboard.ts'

/**
 * The `/model` panel (SPEC §4): provider → model → (Codex) reasoning level. Callback data is
 * `mdl:p:<provider>`, `mdl:m:<model>`, `mdl:e:<model>:<effort>`, `mdl:b` (back to the providers);
 * models come from the catalog (src/core/models.ts), so the data stays far below 64 bytes.
 */
export const MODEL_PREFIX = 'mdl:'

export type ModelAction =
  | { kind: 'providers' }
  | { kind: 'provider', provider: ProviderName }
  | { kind: 'model', model: string }
  | { kind: 'effort', model: string, effort: string }

export interface ModelCurrent { provider: ProviderName, model: string, effort: string }

const LABEL: Record<ProviderName, string> = { claude: 'Claude Code', codex: 'Codex' }

export function parseModelData (data: string): ModelAction | null {
  if (!data.startsWith(MODEL_PREFIX)) return null
  const [kind, a = '', b = ''] = data.slice(MODEL_PREFIX.length).split(':')
  if (kind === 'b') return { kind: 'providers' }
  if (kind === 'p' && (a === 'claude' || a === 'codex')) return { kind: 'provider', provider: a }
  if (kind === 'm' && providerOfModel(a) !== null) return { kind: 'model', model: a }
  if (kind === 'e' && providerOfModel(a) === 'codex' && (REASONING_EFFORTS as readonly string[]).includes(b)) return { kind: 'effort', model: a, effort: b }
  return null
}

function now (current: ModelCurrent): string {
  const effort = current.provider === 'codex' ? ` (reasoning ${escapeHtml(current.effort)})` : ''
  return `Now: <b>${LABEL[current.provider]}</b> · <code>${escapeHtml(current.model)}</code>${effort}`
}

const mark = (on: boolean, text: string): string => on ? `✓ ${text}` : text

export function providersView (current: ModelCurrent): Panel {
  return {
    html: `${now(current)}\nPick a provider:`,
    keyboard: [(['claude', 'codex'] as const).map((p) => button(mark(p === current.provider, LABEL[p]), `${MODEL_PREFIX}p:${p}`))]
  }
}

export function modelsView (provider: ProviderName, current: ModelCurrent): Panel {
  const models = modelChoices(provider).map((m) => button(mark(m === current.model, m), `${MODEL_PREFIX}m:${m}`))
  return {
    html: `${now(current)}\n<b>${LABEL[provider]}</b> models:`,
    keyboard: [models, [button('« Back', `${MODEL_PREFIX}b`)]]
  }
}

export function effortView (model: string, current: ModelCurrent): Panel {
  const efforts = REASONING_EFFORTS.map((e) => button(mark(current.provider === 'codex' && e === current.effort, e), `${MODEL_PREFIX}e:${model}:${e}`))
  return {
    html: `${now(current)}\nReasoning level for <code>${escapeHtml(model)}</code>:`,
    keyboard: [efforts, [button('« Back', `${MODEL_PREFIX}p:codex`)]]
  }
}

export const BUSY_HTML = 'A reply is still running: wait for it or /stop it, then switch the model.'

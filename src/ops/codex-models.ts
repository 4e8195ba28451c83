import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-json.ts'
import type { CommandRunner } from './runner.ts'

/**
 * The Codex models the installed `codex` offers (issue 17, as the Python version asks its codex).
 * Codex 0.169 prints its model catalog with `codex debug models`: `{ "models": [ { "slug",
 * "display_name", "visibility": "list" | "hide", "priority", "supported_reasoning_levels": [{ "effort" }],
 * … } ] }` (test/fixtures/cli/codex-debug-models.json). It refreshes the catalog for the logged-in
 * account when it can and falls back to the catalog bundled with the binary offline. The answer is
 * cached in `state/codex-models.json` for a day.
 */
export interface CodexModelEntry {
  slug: string
  name: string
  efforts: string[]
}

/** The listed (not hidden) models, in the catalog's priority order; null when the text is not a catalog. */
export function parseCodexCatalog (text: string): CodexModelEntry[] | null {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return null
  }
  const models = (raw as { models?: unknown } | null)?.models
  if (!Array.isArray(models)) return null
  const out: Array<CodexModelEntry & { priority: number }> = []
  for (const m of models as Array<Record<string, unknown>>) {
    if (typeof m !== 'object' || m === null || typeof m['slug'] !== 'string' || m['slug'] === '') continue
    if (m['visibility'] !== undefined && m['visibility'] !== 'list') continue
    const levels = Array.isArray(m['supported_reasoning_levels']) ? m['supported_reasoning_levels'] as Array<{ effort?: unknown }> : []
    out.push({
      slug: m['slug'].toLowerCase(),
      name: typeof m['display_name'] === 'string' ? m['display_name'] : m['slug'],
      efforts: levels.map((l) => l.effort).filter((e): e is string => typeof e === 'string'),
      priority: typeof m['priority'] === 'number' ? m['priority'] : Number.MAX_SAFE_INTEGER
    })
  }
  if (out.length === 0) return null
  return out.sort((a, b) => a.priority - b.priority).map(({ priority: _, ...m }) => m)
}

/** Asks the installed codex; null (with the reason) when it cannot tell: an old codex, no codex, bad output. */
export async function askCodexModels (runner: CommandRunner, binary: string, signal?: AbortSignal): Promise<{ models: CodexModelEntry[] } | { models: null, reason: string }> {
  const r = await runner(binary, ['debug', 'models'], { timeoutMs: 60_000, ...(signal !== undefined ? { signal } : {}) })
  if (r.notFound) return { models: null, reason: `${binary} is not installed` }
  if (r.exitCode !== 0) return { models: null, reason: `\`${binary} debug models\` failed (${r.timedOut ? 'timed out' : (r.stderr.trim().split('\n')[0] ?? '') || `exit ${r.exitCode}`})` }
  const models = parseCodexCatalog(r.stdout)
  return models === null ? { models: null, reason: `\`${binary} debug models\` printed no model catalog` } : { models }
}

export const CODEX_MODELS_MAX_AGE_MS = 86_400_000

interface Cached { fetched_at: string, binary: string, models: CodexModelEntry[] }

const cachePath = (stateDir: string): string => join(stateDir, 'codex-models.json')

/** The cached catalog when it is younger than a day and from the same binary; else null. */
export async function readCachedCodexModels (stateDir: string, binary: string, now: number): Promise<CodexModelEntry[] | null> {
  try {
    const c = JSON.parse(await readFile(cachePath(stateDir), 'utf8')) as Partial<Cached>
    const at = Date.parse(c.fetched_at ?? '')
    if (c.binary !== binary || !(now - at < CODEX_MODELS_MAX_AGE_MS) || !Array.isArray(c.models) || c.models.length === 0) return null
    return c.models.filter((m) => typeof m?.slug === 'string')
  } catch {
    return null
  }
}

export async function writeCachedCodexModels (stateDir: string, binary: string, models: CodexModelEntry[], now: number): Promise<void> {
  await writeJsonAtomic(cachePath(stateDir), { fetched_at: new Date(now).toISOString(), binary, models } satisfies Cached)
}

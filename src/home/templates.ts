import { fileURLToPath } from 'node:url'

/** The templates shipped in the package (`templates/` at the package root, beside `src/` and `dist/`). */
export function templatesDir (): string {
  // src/home/ under tsx, dist/src/home/ after tsc: find the package root by walking up.
  const here = new URL('.', import.meta.url)
  const up = here.pathname.includes('/dist/src/') ? '../../../templates/' : '../../templates/'
  return fileURLToPath(new URL(up, here))
}

export type CliVariant = 'claude' | 'codex' | 'both'

/**
 * Renders a rule template for the installed CLIs. Blocks between `<!-- if:claude -->` (or `codex`,
 * `both`) and `<!-- end -->` are kept only when they apply: `claude`/`codex` blocks apply when that CLI
 * is present, `both` when both are.
 */
export function renderRules (template: string, variant: CliVariant): string {
  const has = { claude: variant !== 'codex', codex: variant !== 'claude', both: variant === 'both' }
  return template.replace(/<!-- if:(claude|codex|both) -->\n([\s\S]*?)<!-- end -->\n?/g, (_, which: keyof typeof has, body: string) =>
    has[which] ? body : ''
  )
}

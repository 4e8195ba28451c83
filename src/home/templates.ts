import { fileURLToPath } from 'node:url'

/** The templates shipped in the package (`templates/` at the package root, beside `src/` and `dist/`). */
export function templatesDir (): string {
  // src/home/ under tsx, dist/src/home/ after tsc: find the package root by walking up.
  const here = new URL('.', import.meta.url)
  const up = here.pathname.includes('/dist/src/') ? '../../../templates/' : '../../templates/'
  return fileURLToPath(new URL(up, here))
}

export type CliVariant = 'claude' | 'codex' | 'both'

/** Where the CLIs run: in the Docker sandbox container, or on the host (docs/sandbox.md). */
export type Placement = 'docker' | 'host'

/**
 * Renders a rule template for the installed CLIs. Blocks between `<!-- if:claude -->` (or `codex`,
 * `both`, `docker`, `host`) and `<!-- end -->` are kept only when they apply: `claude`/`codex` blocks
 * apply when that CLI is present, `both` when both are, `docker`/`host` where the CLIs run.
 */
export function renderRules (template: string, variant: CliVariant, placement: Placement = 'host'): string {
  const has = { claude: variant !== 'codex', codex: variant !== 'claude', both: variant === 'both', docker: placement === 'docker', host: placement === 'host' }
  return template.replace(/<!-- if:(claude|codex|both|docker|host) -->\n([\s\S]*?)<!-- end -->\n?/g, (_, which: keyof typeof has, body: string) =>
    has[which] ? body : ''
  )
}

import type { Config } from '../config.ts'
import { resolveCliBinary, findExecutable } from '../providers/resolve-binary.ts'
import { isAbsolute } from 'node:path'
import type { CliVariant } from './templates.ts'

/** Which CLIs are installed: a configured path, or the name found on PATH. */
export function installedClis (config: Config, env: NodeJS.ProcessEnv = process.env): { claude: boolean, codex: boolean } {
  const has = (provider: 'claude' | 'codex'): boolean => {
    const configured = config.cli_paths[provider]
    return configured !== '' ? findExecutable(configured, env['PATH']) !== null : isAbsolute(resolveCliBinary(provider, { pathEnv: env['PATH'] }))
  }
  return { claude: has('claude'), codex: has('codex') }
}

/** Which rule variant to seed: by the CLIs installed (both when neither or both are found). */
export function detectCliVariant (config: Config, env: NodeJS.ProcessEnv = process.env): CliVariant {
  const { claude, codex } = installedClis(config, env)
  if (claude && !codex) return 'claude'
  if (codex && !claude) return 'codex'
  return 'both'
}

import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import type { Config } from '../config.ts'
import type { CliVariant } from './templates.ts'

/** Finds an executable on PATH (or checks an explicit path); null when absent. */
export async function findExecutable (name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const candidates = name.includes('/') ? [name] : (env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))
  for (const path of candidates) {
    try {
      await access(path, constants.X_OK)
      return path
    } catch {}
  }
  return null
}

/** Which rule variant to seed: by the CLIs installed (both when neither or both are found). */
export async function detectCliVariant (config: Config, env: NodeJS.ProcessEnv = process.env): Promise<CliVariant> {
  const [claude, codex] = await Promise.all([
    findExecutable(config.cli_paths.claude !== '' ? config.cli_paths.claude : 'claude', env),
    findExecutable(config.cli_paths.codex !== '' ? config.cli_paths.codex : 'codex', env)
  ])
  if (claude !== null && codex === null) return 'claude'
  if (codex !== null && claude === null) return 'codex'
  return 'both'
}

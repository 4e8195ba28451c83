/** Finding the CLI binaries: `cli_paths` from the config first, else a small `which` over PATH. */
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import type { ProviderName } from './events.ts'

/** The first executable file called `name` in the directories of `pathEnv`, or null. */
export function findExecutable (name: string, pathEnv: string | undefined): string | null {
  if (name.includes('/')) return isExecutableFile(name) ? name : null
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue
    const candidate = join(dir, name)
    if (isExecutableFile(candidate)) return candidate
  }
  return null
}

export interface ResolveCliOptions {
  /** `cli_paths` from the config. */
  cliPaths?: Partial<Record<ProviderName, string | null | undefined>>
  /** The PATH to search; usually the run's PATH. */
  pathEnv?: string
}

/**
 * The binary to run for `provider`: the configured path when set, else the one found on PATH,
 * else the bare name (spawning it then fails with ENOENT, which the runner reports as
 * "CLI not found" with the install command).
 */
export function resolveCliBinary (provider: ProviderName, options: ResolveCliOptions = {}): string {
  const configured = options.cliPaths?.[provider]
  if (typeof configured === 'string' && configured.trim() !== '') return configured
  return findExecutable(provider, options.pathEnv) ?? provider
}

function isExecutableFile (path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

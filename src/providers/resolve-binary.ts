/** Finding the CLI binaries: `cli_paths` from the config first, else a small `which` over PATH. */
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
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

/**
 * PATH without the folders npm puts in front of it for `npm start` / `npm run`: ductor's own
 * `node_modules/.bin` (which holds the pinned test copies of `claude` and `codex`), those of the
 * folders above it, and npm's `node-gyp-bin`. ductor runs — and `ductor doctor` checks — the CLI
 * the user installed, whichever way ductor was started.
 */
export function withoutPackageBins (pathEnv: string | undefined, packageRoot: string): string | undefined {
  if (pathEnv === undefined) return undefined
  const npmDirs = new Set<string>()
  for (let dir = resolve(packageRoot); ; dir = dirname(dir)) {
    npmDirs.add(join(dir, 'node_modules', '.bin'))
    if (dirname(dir) === dir) break
  }
  return pathEnv.split(delimiter)
    .filter((dir) => !npmDirs.has(resolve(dir || '.')) && !/[\\/]node-gyp-bin[\\/]?$/.test(dir))
    .join(delimiter)
}

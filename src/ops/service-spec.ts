import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findExecutable } from '../providers/resolve-binary.ts'
import type { Config } from '../config.ts'

/** What a service definition (systemd unit, launchd agent) runs: everything absolute. */
export interface ServiceSpec {
  /** The Node binary (`process.execPath`). */
  nodePath: string
  /** `bin/ductor.js` of this installation. */
  entry: string
  /** DUCTOR_HOME for the service; null = the default `~/.ductor` of the user running it. */
  home: string | null
  /** PATH of the service: Node's directory, the CLIs' directories, then the usual system ones. */
  pathDirs: string[]
  /** Where launchd writes the service's stderr (startup errors); systemd uses the journal. */
  logDir: string
}

/** The package root (holds bin/, templates/, src/ or dist/), found from this file's location. */
export function packageRoot (): string {
  const here = new URL('.', import.meta.url)
  const up = here.pathname.includes('/dist/src/') ? '../../../' : '../../'
  return fileURLToPath(new URL(up, here))
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
const MAC_DIRS = ['/opt/homebrew/bin', '/opt/homebrew/sbin']

/**
 * Builds the spec for this machine: the Node running now, this installation's entry, the home from
 * DUCTOR_HOME (when set), and a PATH that finds node, `claude`, `codex` and the usual tools even
 * though a service does not read the user's shell profile.
 */
export async function buildServiceSpec (opts: {
  env: NodeJS.ProcessEnv
  userHome: string
  platform: NodeJS.Platform
  config: Config
  home: string
  execPath?: string
  root?: string
}): Promise<ServiceSpec> {
  const nodePath = opts.execPath ?? process.execPath
  const cliDirs: string[] = []
  for (const [name, explicit] of [['claude', opts.config.cli_paths.claude], ['codex', opts.config.cli_paths.codex]] as const) {
    const found = findExecutable(explicit !== '' ? explicit : name, opts.env['PATH'])
    if (found !== null) cliDirs.push(dirname(resolve(found)))
  }
  const dirs = [dirname(nodePath), ...cliDirs, join(opts.userHome, '.local', 'bin'),
    ...(opts.platform === 'darwin' ? MAC_DIRS : []), ...SYSTEM_DIRS]
  const fromEnv = opts.env['DUCTOR_HOME']
  return {
    nodePath,
    entry: join(opts.root ?? packageRoot(), 'bin', 'ductor.js'),
    home: fromEnv !== undefined && fromEnv !== '' ? opts.home : null,
    pathDirs: [...new Set(dirs)],
    logDir: join(opts.home, 'logs')
  }
}

import { access } from 'node:fs/promises'
import type { CommandResult, CommandRunner } from './runner.ts'
import type { ServiceSpec } from './service-spec.ts'

/** A failure of the platform's service tool, with a message that says what to do. */
export class ServiceError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ServiceError'
  }
}

export interface ServiceStatus {
  kind: 'systemd' | 'launchd'
  /** The unit or plist file exists. */
  installed: boolean
  definitionPath: string
  active: boolean
  /** The platform's own words, e.g. `active (running)`, `failed (exit 2)`, `running`, `not loaded`. */
  state: string
  pid: number | null
  /** Starts after the first one (systemd: NRestarts; launchd: runs - 1). */
  restarts: number | null
  lastExitCode: number | null
  /** Starts at boot/login (systemd: enabled; launchd: the plist exists). */
  enabled: boolean
}

export interface InstallResult {
  path: string
  started: boolean
  /** Hints to show the user (linger, login session). */
  notes: string[]
}

/** `ductor service …` on one platform: systemd user units (Linux) or a launchd agent (macOS). */
export interface ServiceManager {
  kind: 'systemd' | 'launchd'
  definitionPath: string
  render: (spec: ServiceSpec) => string
  install: (spec: ServiceSpec, opts: { start: boolean }) => Promise<InstallResult>
  /**
   * Stops and removes the unit (or plist). The file is removed even when the service manager cannot
   * be reached; `note` then says what could not be done.
   */
  uninstall: () => Promise<{ removed: boolean, note: string | null }>
  start: () => Promise<void>
  stop: () => Promise<void>
  restart: () => Promise<void>
  status: () => Promise<ServiceStatus>
  /**
   * Shows the service's logs with the platform's tool on this terminal; returns its exit code. When
   * the tool has nothing (no journal for the unit), the end of `logs/ductor.log`; when there is no
   * log at all, a ServiceError saying so — never nothing with exit 0.
   */
  logs: (opts: { lines: number, follow: boolean, out?: LogOutput }) => Promise<number>
}

export interface ServiceContext {
  platform: NodeJS.Platform
  env: NodeJS.ProcessEnv
  /** The user's home directory (where ~/.config and ~/Library live). */
  userHome: string
  uid: number
  user: string
  runner: CommandRunner
  /** The home's log folder (launchd's stderr file and `service logs` on macOS). */
  logDir: string
  /** Where systemd-logind marks users with linger (default /var/lib/systemd/linger). */
  lingerDir?: string
  /** Where user runtime directories live (default /run/user). */
  runtimeRoot?: string
}

export async function exists (path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false)
}

/** First non-empty line of a command's error output, for one-line messages. */
export function firstLine (result: CommandResult): string {
  return (result.stderr + '\n' + result.stdout).split('\n').map((l) => l.trim()).find((l) => l !== '') ?? `exit code ${result.exitCode}`
}

/** Where `service logs` prints what it read itself (a followed log goes straight to the terminal). */
export interface LogOutput { stdout: (text: string) => void, stderr: (text: string) => void }

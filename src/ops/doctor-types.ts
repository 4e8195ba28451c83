import type { CommandRunner } from './runner.ts'

export type CheckStatus = 'ok' | 'warn' | 'fail'

/** One line of `ductor doctor`: what was checked, how it went, and what to do when it did not. */
export interface CheckResult {
  name: string
  status: CheckStatus
  detail: string
  fix?: string
}

/** Everything the checks read from the outside world, injected so tests use temporary homes and fakes. */
export interface DoctorContext {
  home: string
  env: NodeJS.ProcessEnv
  /** The user's home directory (~/.claude, ~/.codex, ~/.config live there). */
  userHome: string
  platform: NodeJS.Platform
  nodeVersion: string
  /** null where there are no uids (Windows). */
  uid: number | null
  user: string
  runner: CommandRunner
  fetch: typeof fetch
  /** Per network request. */
  timeoutMs: number
  /** Running inside a container (listening on 0.0.0.0 is expected there). */
  inContainer: boolean
  lingerDir?: string
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail })
export const warn = (name: string, detail: string, fix?: string): CheckResult => fix === undefined ? { name, status: 'warn', detail } : { name, status: 'warn', detail, fix }
export const fail = (name: string, detail: string, fix?: string): CheckResult => fix === undefined ? { name, status: 'fail', detail } : { name, status: 'fail', detail, fix }

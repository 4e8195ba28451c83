/** The environment of a CLI run. Pure: the caller passes every input. */
import { delimiter } from 'node:path'
import type { ProviderName } from './events.ts'

export interface CliEnvOptions {
  /** Usually process.env. */
  baseEnv: Readonly<Record<string, string | undefined>>
  provider: ProviderName
  permissionMode: string
  ductorHome: string
  chatId: string
  /** Admin API base URL and token, so the agent's `ductor` command can reach the service. */
  apiUrl?: string | null
  apiToken?: string | null
  /** Directory holding the `ductor` command; put first on PATH. */
  extraBinDir?: string | null
  /** Whether ductor runs as root (process.getuid?.() === 0). */
  isRoot: boolean
}

export function buildCliEnv (options: CliEnvOptions): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(options.baseEnv)) {
    if (value !== undefined) env[key] = value
  }
  // Set inside a Claude Code session; a nested `claude` refuses to start when it sees it.
  delete env.CLAUDECODE
  env.DUCTOR_HOME = options.ductorHome
  env.DUCTOR_CHAT_ID = options.chatId
  if (options.apiUrl != null && options.apiUrl !== '') env.DUCTOR_API_URL = options.apiUrl
  if (options.apiToken != null && options.apiToken !== '') env.DUCTOR_API_TOKEN = options.apiToken
  if (options.extraBinDir != null && options.extraBinDir !== '') {
    env.PATH = env.PATH === undefined || env.PATH === ''
      ? options.extraBinDir
      : options.extraBinDir + delimiter + env.PATH
  }
  // As root, Claude refuses to bypass permissions unless it believes it is sandboxed (NOTES §2).
  if (options.provider === 'claude' && options.permissionMode === 'bypassPermissions' && options.isRoot) {
    env.IS_SANDBOX = '1'
  }
  return env
}

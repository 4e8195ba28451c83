import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The home directory: `DUCTOR_HOME`, else `~/.ductor` (SPEC §1). */
export function resolveHome (env: NodeJS.ProcessEnv): string {
  const fromEnv = env['DUCTOR_HOME']
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.ductor'))
}

export interface HomePaths {
  home: string
  config: string
  sessions: string
  cronJobs: string
  webhooks: string
  logs: string
  state: string
  pidFile: string
  workspace: string
  memory: string
  cronTasks: string
  skills: string
  tools: string
  telegramFiles: string
  outputToUser: string
}

export function homePaths (home: string): HomePaths {
  const workspace = join(home, 'workspace')
  return {
    home,
    config: join(home, 'config', 'config.json'),
    sessions: join(home, 'sessions.json'),
    cronJobs: join(home, 'cron_jobs.json'),
    webhooks: join(home, 'webhooks.json'),
    logs: join(home, 'logs'),
    state: join(home, 'state'),
    pidFile: join(home, 'ductor.pid'),
    workspace,
    memory: join(workspace, 'memory_system', 'MAINMEMORY.md'),
    cronTasks: join(workspace, 'cron_tasks'),
    skills: join(workspace, 'skills'),
    tools: join(workspace, 'tools'),
    telegramFiles: join(workspace, 'telegram_files'),
    outputToUser: join(workspace, 'output_to_user')
  }
}

/**
 * The Python ductor kept everything but its config in the folder `ductor_home` of config.json names
 * (default `~/.ductor`); this edition keeps all of it in its home (`DUCTOR_HOME`, else `~/.ductor`).
 * When the key names another folder, the line the service logs at start says so; null when it names
 * this home, is absent or is not a path.
 */
export function ductorHomeNote (value: unknown, home: string, userHome: string = homedir()): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null
  const named = resolve(value.trim().replace(/^~(?=$|\/)/, userHome))
  if (named === resolve(home)) return null
  return `config.json names "${value}" (${named}) as ductor_home, where the Python ductor kept its sessions, jobs and workspace; ` +
    `this edition keeps them in its home ${home}. If your data is in ${named}, start ductor with DUCTOR_HOME=${named}`
}

import { readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The user's home folder: `$HOME` of `env`, else the process's. */
function userHome (env: NodeJS.ProcessEnv): string {
  const fromEnv = env['HOME']
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : homedir()
}

/** The home directory, where `config/config.json` is: `DUCTOR_HOME`, else `~/.ductor` (SPEC §1). */
export function resolveHome (env: NodeJS.ProcessEnv): string {
  const fromEnv = env['DUCTOR_HOME']
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(userHome(env), '.ductor'))
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

/**
 * The files of a home. `configHome` is where `config/config.json` is when that is not `home`
 * (a `ductor_home` followed, see `chooseHome`).
 */
export function homePaths (home: string, configHome: string = home): HomePaths {
  const workspace = join(home, 'workspace')
  return {
    home,
    config: join(configHome, 'config', 'config.json'),
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
 * Where the data lives (ADR 0028). The Python ductor read its config from `DUCTOR_HOME` (else
 * `~/.ductor`) and kept everything else — sessions, jobs, hooks, workspace, logs — in the folder the
 * config's `ductor_home` names (default `~/.ductor`, so for most users the same folder). This edition
 * does the same, with two safety rules: when `DUCTOR_HOME` is set it wins (a copy started with it
 * never reads or writes the original), and a `ductor_home` that does not exist is an error, not a
 * fresh empty home that would hide the user's sessions.
 */
export interface HomeChoice {
  /** The files, with `config` in the config home. */
  paths: HomePaths
  /** Where `config/config.json` is. */
  configHome: string
  /** `ductor_home` names another folder than the config home, and it is followed. */
  followed: boolean
  /** For the log at start: what was decided, when `ductor_home` names another folder. */
  note: string | null
  /** How loud the note is: a warning when something is not used. */
  level: 'info' | 'warn'
  /** Why the service must not start (a `ductor_home` that is missing or not a folder); null when it may. */
  error: string | null
}

/** `ductor_home` as a folder (`~` is the user's home), or null when it is absent or not a path. */
export function namedHome (value: unknown, env: NodeJS.ProcessEnv): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null
  return resolve(value.trim().replace(/^~(?=$|\/)/, userHome(env)))
}

function kindOf (path: string): 'folder' | 'file' | null {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file'
  } catch {
    return null
  }
}

/** The data home for a config home whose config.json has `ductor_home: value` (see HomeChoice). */
export function chooseHome (configHome: string, value: unknown, env: NodeJS.ProcessEnv): HomeChoice {
  const here = (note: string | null, error: string | null = null): HomeChoice => ({ paths: homePaths(configHome), configHome, followed: false, note, level: 'warn', error })
  const named = namedHome(value, env)
  if (named === null || named === resolve(configHome)) return here(null)
  const key = `ductor_home "${String(value)}" (${named})`
  const fromEnv = env['DUCTOR_HOME']
  if (fromEnv !== undefined && fromEnv !== '') {
    return here(`config.json names ${key}, where the Python ductor kept sessions, jobs and workspace; DUCTOR_HOME is set, so ductor uses ${configHome} for everything ` +
      `and leaves ${named} alone. To use the data in ${named}, start ductor without DUCTOR_HOME (config in ~/.ductor) or with DUCTOR_HOME=${named}`)
  }
  const kind = kindOf(named)
  if (kind !== 'folder') {
    return here(null, `config.json (${join(configHome, 'config', 'config.json')}) names ${key} as the folder of sessions, jobs and workspace, but it ${kind === null ? 'does not exist' : 'is not a folder'}. ` +
      `Nothing was created or changed. Fix the path, create the folder (mkdir -p ${named}) to start a new home there, or remove the key to keep everything in ${configHome}`)
  }
  const stray = ['sessions.json', 'cron_jobs.json', 'webhooks.json'].filter((f) => kindOf(join(configHome, f)) === 'file')
  return {
    paths: homePaths(named, configHome),
    configHome,
    followed: true,
    note: `following ${key} as the Python ductor did: sessions, jobs, hooks, workspace, logs and state are in ${named}; the config stays in ${join(configHome, 'config', 'config.json')}` +
      (stray.length > 0 ? `. ${configHome} also holds ${stray.join(', ')}: not used, left as they are` : ''),
    level: stray.length > 0 ? 'warn' : 'info',
    error: null
  }
}

/** The `ductor_home` of the config home's config.json, read as it is (null when unreadable: the config loader reports that). */
export function readDuctorHome (configHome: string): unknown {
  try {
    return (JSON.parse(readFileSync(join(configHome, 'config', 'config.json'), 'utf8')) as Record<string, unknown>)['ductor_home'] ?? null
  } catch {
    return null
  }
}

/**
 * The home of `env` as the service uses it (for the `ductor` commands: the same files the running
 * service has, `ductor_home` included). A `ductor_home` the service would refuse falls back to the
 * config home, where a service that could not start left its traces.
 */
export function resolvePaths (env: NodeJS.ProcessEnv): HomePaths {
  const choice = locateHome(env)
  return choice.error === null ? choice.paths : homePaths(choice.configHome)
}

/** The config home of `env` and the data home its config.json's `ductor_home` leads to (see HomeChoice). */
export function locateHome (env: NodeJS.ProcessEnv): HomeChoice {
  const configHome = resolveHome(env)
  return chooseHome(configHome, readDuctorHome(configHome), env)
}

import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { completeConfig, configSecrets, ENV_OVERRIDES, type Config } from '../src/config.ts'
import { readUserJson } from '../src/json-location.ts'
import { DuctorError, ErrorCodes, UserFileError } from '../src/errors.ts'
import { createSecretMask, type SecretMask } from '../src/secret-mask.ts'
import { writeJsonAtomic } from '../src/atomic-json.ts'
import { planConfigPatch, type ConfigPatchPlan } from '../src/core/config-update.ts'
import { defaultTimezone } from '../src/automation/cron-plan.ts'
import type { Clock } from '../src/clock.ts'
import type { Logger } from '../src/logger-types.ts'
import type { HomePaths } from '../src/home/paths.ts'

/** The live config and what every other part reads from it. */
export interface Settings {
  config: () => Config
  paths: HomePaths
  clock: Clock
  logger: Logger
  env: NodeJS.ProcessEnv
  /** The zone for cron, quiet hours, daily reset: `user_timezone` → $TZ → host → UTC. */
  timezone: () => string
  /** The live secrets: masked in logs and in everything the agent says (ADR 0007). */
  secrets: SecretMask
  /** Where the agent's `ductor` command reaches the admin API; set once the server listens. */
  apiUrl: () => string | null
  setApiUrl: (url: string) => void
  /** Applies a new validated config to everything that reads it live (and to `onApply` listeners). */
  applyConfig: (next: Config) => void
  /** Told every applied config (e.g. the run slots follow `limits.max_concurrent_runs`). */
  onApply: (listener: (next: Config) => void) => void
  /** PATCH /api/config: merge, validate, persist atomically, apply what can be applied live. */
  updateConfig: (patch: unknown) => Promise<ConfigPatchPlan>
  /**
   * `/model` (SPEC §4): the new default is written to config.json like PATCH /api/config and applied.
   * An environment variable (DUCTOR_PROVIDER / DUCTOR_MODEL) wins over the file at the next start; the
   * user's explicit switch still applies now, and the returned note tells them why it will not last.
   */
  switchDefault: (next: { provider: 'claude' | 'codex', model: string, reasoning_effort?: Config['reasoning_effort'] }) => Promise<string | null>
}

export interface SettingsOptions {
  /** The effective config (file + environment). */
  config: Config
  /** The config as stored in `config/config.json`, and where (PATCH /api/config writes it). */
  fileConfig?: Config
  configPath?: string
  paths: HomePaths
  clock: Clock
  logger: Logger
  env?: NodeJS.ProcessEnv
  /**
   * The live secret set: the logger's scrubber in the service, which already holds the config's
   * secrets (main.ts adds them before the first log line). Without one, a fresh set with them.
   */
  secrets?: SecretMask
}

declare module 'fastify' {
  interface FastifyInstance {
    settings: Settings
  }
}

/** Decorates the app with the live config: the first part, every other one depends on it. */
async function settingsPlugin (app: FastifyInstance, opts: SettingsOptions): Promise<void> {
  const env = opts.env ?? process.env
  let config = opts.config
  let fileConfig = opts.fileConfig ?? opts.config
  let apiUrl: string | null = null
  let configWrites: Promise<unknown> = Promise.resolve()
  const listeners: Array<(next: Config) => void> = []
  const secrets = opts.secrets ?? withConfigSecrets(createSecretMask(), config)

  function applyConfig (next: Config): void {
    config = next
    for (const secret of configSecrets(next)) secrets.add(secret)
    for (const listener of listeners) listener(next)
  }

  async function updateConfig (patch: unknown): Promise<ConfigPatchPlan> {
    const run = configWrites.then(async () => {
      // The file is the user's: a hand edit since start is the base (kept, not written over), and a
      // hand edit that is not JSON refuses the change instead of being replaced (ADR 0017).
      const onDisk = opts.configPath === undefined
        ? null
        : await readUserJson(opts.configPath, 'nothing was changed; fix the file first').catch((err: unknown) => {
          if (err instanceof UserFileError) throw new DuctorError(ErrorCodes.conflict, err.message)
          throw err
        })
      const base = onDisk?.status === 'ok' && typeof onDisk.value === 'object' && onDisk.value !== null && !Array.isArray(onDisk.value)
        ? completeConfig(onDisk.value as Record<string, unknown>)
        : fileConfig
      const plan = planConfigPatch(base, patch, env)
      if (opts.configPath !== undefined) await writeJsonAtomic(opts.configPath, plan.file)
      fileConfig = plan.file
      applyConfig(plan.effective)
      opts.logger.info({ changed: plan.changed, restartRequired: plan.restartRequired }, 'config updated')
      return plan
    })
    configWrites = run.catch(() => {})
    return await run
  }

  app.decorate('settings', {
    config: () => config,
    paths: opts.paths,
    clock: opts.clock,
    logger: opts.logger,
    env,
    timezone: () => defaultTimezone(config.user_timezone, env['TZ']),
    secrets,
    apiUrl: () => apiUrl,
    setApiUrl (url: string) { apiUrl = url },
    applyConfig,
    onApply (listener: (next: Config) => void) { listeners.push(listener) },
    updateConfig,
    async switchDefault (next) {
      const plan = await updateConfig(next)
      if (plan.overriddenByEnv.length === 0) return null
      applyConfig({ ...config, ...next })
      const names = ENV_OVERRIDES.filter(([, key]) => plan.overriddenByEnv.includes(key)).map(([name]) => name)
      return `Note: ${names.join(' and ')} is set in ductor's environment and will choose the model again at the next start.`
    }
  } satisfies Settings)
}

function withConfigSecrets (secrets: SecretMask, config: Config): SecretMask {
  for (const secret of configSecrets(config)) secrets.add(secret)
  return secrets
}

export default fp(settingsPlugin, { name: 'settings' })

import { Command } from 'commander'
import { resolvePaths } from '../home/paths.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { readVersion } from '../version.ts'
import { processFacts } from '../ops/process-context.ts'
import { createCommandRunner, type CommandRunner } from '../ops/runner.ts'
import { packageRoot } from '../ops/service-spec.ts'
import { createServiceManager, type ServiceManager } from '../ops/service-manager.ts'
import { checkForUpdate, installKind, installVersion, manualUpgradeHint, registryFromEnv, type InstallKind } from '../ops/upgrade.ts'
import { writeUpgradeMarker } from '../ops/upgrade-notice.ts'
import type { CliIo } from './io.ts'

export interface UpgradeDeps {
  current: string
  kind: InstallKind
  root: string
  registry: string
  fetch: typeof fetch
  runner: CommandRunner
  stateDir: string
  pidFile: string
  /** null where ductor cannot be a service (unsupported platform). */
  manager: ServiceManager | null
  out: (text: string) => void
}

/**
 * `ductor upgrade`: asks the npm registry for the latest version, installs it with npm, leaves the
 * marker that makes the new process tell the chat, and restarts the service when it runs as one.
 * Throws (one line for the user) when the registry cannot be reached or npm fails.
 */
export async function upgrade (deps: UpgradeDeps, opts: { check: boolean }): Promise<void> {
  const check = await checkForUpdate(deps.current, deps.fetch, { registry: deps.registry })
  if (check.status === 'error') throw new Error(`cannot check for updates: ${check.message}. To upgrade by hand, ${manualUpgradeHint(deps.kind, deps.root)}`)
  if (!check.newer) {
    deps.out(`ductor ${deps.current} is up to date (latest on ${deps.registry}: ${check.latest}).\n`)
    return
  }
  if (opts.check) {
    // A git checkout is not upgraded by `ductor upgrade` (it refuses): name what works there.
    deps.out(deps.kind === 'git'
      ? `ductor ${check.latest} is available (this is ${deps.current}, a git checkout at ${deps.root}). Update it with: cd ${deps.root} && git pull && npm ci && npm run build, then restart it\n`
      : `ductor ${check.latest} is available (this is ${deps.current}). Upgrade with: ductor upgrade\n`)
    return
  }
  if (deps.kind === 'git') {
    throw new Error(`ductor ${check.latest} is available, but this ductor runs from a git checkout (${deps.root}); ` +
      'update it there with `git pull && npm ci && npm run build`, then restart it')
  }
  deps.out(`Upgrading ductor ${deps.current} → ${check.latest} with npm…\n`)
  const installed = await installVersion(deps.runner, check.latest, { inherit: true })
  if (!installed.ok) throw new Error(installed.message)
  await writeUpgradeMarker(deps.stateDir, { from: deps.current, to: check.latest, chat_id: null, requested_at: new Date().toISOString() })
  const status = await deps.manager?.status().catch(() => null) ?? null
  if (deps.manager !== null && status?.active === true) {
    await deps.manager.restart()
    deps.out(`Installed ${check.latest} and restarted the service; the chat is told once it is back.\n`)
    return
  }
  const holder = await readPidFile(deps.pidFile)
  deps.out(holder?.alive === true
    ? `Installed ${check.latest}. ductor is running (pid ${holder.pid}) outside a service: restart it to use the new version (/restart in Telegram, or stop it and run ductor serve).\n`
    : `Installed ${check.latest}. Start it with: ductor serve (or ductor service start).\n`)
}

export function upgradeCommand (io: CliIo): Command {
  return new Command('upgrade')
    .description('upgrade ductor to the latest version from npm and restart the service')
    .option('--check', 'only say whether a newer version exists')
    .action(async (opts: { check?: boolean }) => {
      const env = io.env
      const paths = resolvePaths(env)
      const facts = processFacts(env)
      const runner = createCommandRunner({ env })
      let manager: ServiceManager | null = null
      try {
        manager = createServiceManager({ ...facts, env, runner, logDir: paths.logs })
      } catch {}
      const root = packageRoot()
      await upgrade({
        current: readVersion(),
        kind: installKind(root),
        root,
        registry: registryFromEnv(env),
        fetch,
        runner,
        stateDir: paths.state,
        pidFile: paths.pidFile,
        manager,
        out: (text) => { io.stdout.write(text) }
      }, { check: opts.check === true })
    })
}

import { Command, Option } from 'commander'
import { resolveHome, resolvePaths } from '../home/paths.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { readConfigReadOnly } from '../ops/config-read.ts'
import { processFacts } from '../ops/process-context.ts'
import { createCommandRunner } from '../ops/runner.ts'
import { buildServiceSpec } from '../ops/service-spec.ts'
import { createServiceManager, type ServiceManager, type ServiceStatus } from '../ops/service-manager.ts'
import { completeConfig } from '../config.ts'
import type { CliIo } from './io.ts'

/** Exit codes of `ductor service status`: like `ductor status`, plus one for "not installed". */
const SERVICE_EXIT = { active: 0, inactive: 3, notInstalled: 4 } as const

function context (env: NodeJS.ProcessEnv) {
  const facts = processFacts(env)
  const home = resolveHome(env)
  const paths = resolvePaths(env)
  const manager = createServiceManager({ ...facts, env, runner: createCommandRunner({ env }), logDir: paths.logs })
  return { env, facts, home, paths, manager }
}

/**
 * `ductor service install|status|start|stop|restart|logs|uninstall`: keeps ductor running with the
 * platform's service manager (a systemd user unit on Linux, a launchd agent on macOS).
 */
export function serviceCommand (io: CliIo): Command {
  const service = new Command('service')
    .description('run ductor as a background service (systemd user unit on Linux, launchd agent on macOS)')

  service.command('install')
    .description('write the unit (or plist), enable it at boot/login and start it')
    .option('--no-start', 'write and enable it, but do not start it now')
    .option('--print', 'print the unit (or plist) and change nothing')
    .action(async (opts: { start: boolean, print?: boolean }) => {
      const { env, facts, home, paths, manager } = context(io.env)
      const reading = await readConfigReadOnly(home, env)
      const config = reading.status === 'ok' ? reading.config : completeConfig({})
      const spec = await buildServiceSpec({ env, userHome: facts.userHome, platform: facts.platform, config, home })
      if (opts.print === true) {
        io.stdout.write(manager.render(spec))
        return
      }
      const holder = await readPidFile(paths.pidFile)
      const before = holder?.alive === true ? await manager.status().catch(() => null) : null
      const result = await manager.install(spec, { start: opts.start })
      const what = manager.kind === 'systemd' ? 'systemd user unit' : 'launchd agent'
      const lines = [`Installed the ${what}: ${result.path}`]
      lines.push(result.started
        ? 'Started it. Check it with `ductor service status`; follow the logs with `ductor service logs -f`.'
        : 'Not started (--no-start). Start it with `ductor service start`.')
      if (holder?.alive === true && before?.pid !== holder.pid) {
        lines.push(`Note: ductor is already running outside the service (pid ${holder.pid}); stop it, or the service cannot take the home's lock.`)
      }
      if (reading.status === 'invalid') lines.push(`Note: the service will not start until the config is fixed: ${reading.message}`)
      for (const note of result.notes) lines.push(`Note: ${note}`)
      io.stdout.write(lines.join('\n') + '\n')
    })

  service.command('status')
    .description('whether the service is installed and running (exit 0 running, 3 stopped, 4 not installed)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { manager } = context(io.env)
      const status = await manager.status()
      io.stdout.write(opts.json === true ? JSON.stringify(status) + '\n' : describeStatus(status))
      io.exitCode = status.active ? SERVICE_EXIT.active : status.installed ? SERVICE_EXIT.inactive : SERVICE_EXIT.notInstalled
    })

  for (const [name, description, done] of [
    ['start', 'start the service', 'Started'],
    ['stop', 'stop the service (it starts again at the next boot or login)', 'Stopped'],
    ['restart', 'restart the service (after an upgrade or a config change)', 'Restarted']
  ] as const) {
    service.command(name).description(description).action(async () => {
      const { manager } = context(io.env)
      await requireInstalled(manager)
      await manager[name]()
      io.stdout.write(`${done} ductor (${manager.definitionPath}).\n`)
    })
  }

  service.command('logs')
    .description('show the service\'s logs (journalctl on Linux, the log files on macOS)')
    .addOption(new Option('-n, --lines <n>', 'how many recent lines').default('100').argParser(positiveInt))
    .option('-f, --follow', 'keep printing new lines')
    .action(async (opts: { lines: number | string, follow?: boolean }) => {
      const { manager } = context(io.env)
      io.exitCode = await manager.logs({ lines: Number(opts.lines), follow: opts.follow === true, out: { stdout: (text) => { io.stdout.write(text) }, stderr: (text) => { io.stderr.write(text) } } })
    })

  service.command('uninstall')
    .description('stop the service and remove the unit (or plist); the home is kept')
    .action(async () => {
      const { manager, home } = context(io.env)
      const { removed, note } = await manager.uninstall()
      io.stdout.write(note !== null
        ? `${removed ? `Removed ${manager.definitionPath}` : `There was no ${manager.definitionPath}`}. Note: ${note}. The home ${home} is kept.\n`
        : removed
          ? `Stopped ductor and removed ${manager.definitionPath}. The home ${home} is kept.\n`
          : `ductor was not installed as a service (no ${manager.definitionPath}).\n`)
    })

  return service
}

async function requireInstalled (manager: ServiceManager): Promise<void> {
  const status = await manager.status()
  if (!status.installed) throw new Error(`ductor is not installed as a service (no ${manager.definitionPath}); run: ductor service install`)
}

function describeStatus (s: ServiceStatus): string {
  if (!s.installed && !s.active) return `ductor is not installed as a service (no ${s.definitionPath})\n  install it with: ductor service install\n`
  const parts = [s.state]
  if (s.pid !== null) parts.push(`pid ${s.pid}`)
  parts.push(s.enabled ? `starts at ${s.kind === 'systemd' ? 'boot' : 'login'}` : 'not enabled')
  const lines = [`ductor service (${s.kind}): ${parts.join(', ')}`, `  file      ${s.definitionPath}`]
  if (s.restarts !== null) lines.push(`  restarts  ${s.restarts}`)
  if (s.lastExitCode !== null && !s.active) lines.push(`  last exit ${s.lastExitCode}`)
  if (!s.active) lines.push('  start it with: ductor service start; see why it stopped: ductor service logs')
  return lines.join('\n') + '\n'
}

function positiveInt (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--lines: "${value}" is not a positive number`)
  return Number(value)
}

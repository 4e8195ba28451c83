import { Command } from 'commander'
import { resolveHome, resolvePaths } from '../home/paths.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { readLiveSupervisor, readServiceInfo } from '../home/service-info.ts'
import { connectApi } from './api-client.ts'
import { join } from 'node:path'
import { readConfigReadOnly } from '../ops/config-read.ts'
import { createCommandRunner } from '../ops/runner.ts'
import { countLogErrors, dockerState, formatUptime } from '../ops/status-facts.ts'
import type { CliIo } from './io.ts'

function telegramHint (state: string, retryAt: string | null): string {
  if (state.startsWith('off')) return '; turn it on with: ductor init, then restart ductor'
  // Only a failure the service retries gets a retry (a network error, Telegram down); a refused token does not.
  if (state.startsWith('down')) return ` (${retryAt === null ? 'ductor does not retry this on its own' : 'ductor retries on its own'}; see the log: ductor service logs, or logs/ductor.log)`
  return ''
}

interface StatusApi {
  uptime_seconds?: number
  provider?: string
  model?: string
  providers?: { claude: string, codex: string }
  sandbox?: { enabled: boolean, where: 'docker' | 'host' | 'unknown', reason: string | null, container: string }
  telegram?: string
  telegram_state?: { retry_at: string | null } | null
}

/** The running service's own word on the sandbox: where CLI runs go now. */
function liveDocker (s: NonNullable<StatusApi['sandbox']>): string {
  if (!s.enabled) return 'off (the CLIs run on this machine)'
  if (s.where === 'docker') return `on, CLIs run in container ${s.container}`
  if (s.where === 'unknown') return `on, container ${s.container} not checked yet`
  return `on, but Docker is not usable (${s.reason ?? 'unknown reason'}): CLIs run on this machine`
}

/** `/api/status` of the running service, or null when the API cannot say (off, no token, too slow). */
async function apiStatus (env: NodeJS.ProcessEnv): Promise<StatusApi | null> {
  try {
    const api = await connectApi(env)
    return await Promise.race([
      api.request<StatusApi>('GET', '/status'),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000).unref())
    ])
  } catch {
    return null
  }
}

/**
 * `ductor status` (as the Python version shows it): whether the service runs, its pid and uptime,
 * provider and model, the CLIs' logins, Docker, Telegram, the errors in the log, and the paths.
 * Exit 0 running, 3 not.
 */
export function statusCommand (io: CliIo): Command {
  return new Command('status')
    .description('say whether the service is running: pid, uptime, provider/model, Docker, errors, paths')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const paths = resolvePaths(io.env)
      const home = paths.home
      const [holder, info, reading] = await Promise.all([readPidFile(paths.pidFile), readServiceInfo(paths.state), readConfigReadOnly(resolveHome(io.env), io.env)])
      const running = holder?.alive === true
      const pid = running ? holder.pid : null
      const url = info?.url ?? null
      const adminUrl = info?.admin_url ?? null
      const healthy = url !== null && await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
      const live = running && healthy ? await apiStatus(io.env) : null
      const telegram = live?.telegram ?? null
      const config = reading.status === 'ok' ? reading.config : null
      const startedAt = info?.started_at !== undefined ? Date.parse(info.started_at) : NaN
      const uptimeSeconds = live?.uptime_seconds ?? (running && Number.isFinite(startedAt) ? Math.round((Date.now() - startedAt) / 1000) : null)
      const provider = live?.provider ?? config?.provider ?? null
      const model = live?.model ?? config?.model ?? null
      const docker = live?.sandbox !== undefined ? liveDocker(live.sandbox) : config === null ? null : await dockerState(config, createCommandRunner({ env: io.env }))
      // Errors of this life of the service; when it does not run, of the last day.
      const since = running && Number.isFinite(startedAt) ? startedAt : Date.now() - 86_400_000
      const log = await countLogErrors(paths.logs, since)
      const where = { home, config: paths.config, workspace: paths.workspace, logs: paths.logs, sessions: paths.sessions }
      if (opts.json === true) {
        const json = { running, healthy, pid, url, admin_url: adminUrl, version: info?.version ?? null, home, telegram }
        const more = { uptime_seconds: uptimeSeconds, provider, model, reasoning_effort: config?.reasoning_effort ?? null, providers: live?.providers ?? null }
        const facts = { docker, errors: log?.errors ?? null, errors_since: new Date(since).toISOString(), paths: where }
        io.stdout.write(JSON.stringify({ ...json, ...more, ...facts }) + '\n')
        io.exitCode = running ? 0 : 3
        return
      }
      const lines: string[] = []
      let waiting = false
      const row = (name: string, value: string): void => { lines.push(`  ${name.padEnd(10)} ${value}`) }
      if (running) {
        lines.push(`ductor is running (pid ${String(pid)})${uptimeSeconds === null ? '' : `, up ${formatUptime(uptimeSeconds * 1000)}`}${healthy ? '' : ', but /health does not answer yet'}`)
        if (info?.version !== undefined) row('version', info.version)
        row('address', url ?? 'unknown (starting)')
        row('admin API', adminUrl ?? 'off')
      } else {
        // Between a crash and the next start (the backoff) only the supervisor runs.
        const supervisor = await readLiveSupervisor(paths.state)
        lines.push(supervisor === null ? 'ductor is not running' : `ductor is not running: its supervisor (pid ${supervisor}) starts it again after a crash (ductor stop ends that)`)
        if (supervisor !== null) waiting = true
      }
      if (reading.status === 'invalid') row('config', `cannot be read: ${reading.message}`)
      if (provider !== null && model !== null) row('model', `${provider} · ${model}${provider === 'codex' && config !== null ? ` (${config.reasoning_effort})` : ''}`)
      if (live?.providers !== undefined) {
        row('claude', live.providers.claude)
        row('codex', live.providers.codex)
      }
      if (docker !== null) row('docker', docker)
      if (telegram !== null) row('telegram', `${telegram}${telegramHint(telegram, live?.telegram_state?.retry_at ?? null)}`)
      row('errors', log === null ? 'no log yet' : `${log.errors} in ${join('logs', 'ductor.log')} ${running ? 'since the start' : 'in the last 24 h'}${log.last === null ? '' : ` (last: ${log.last})`}`)
      lines.push('  paths')
      for (const [name, path] of Object.entries(where)) lines.push(`    ${name.padEnd(10)} ${path}`)
      if (!running && !waiting) lines.push('  start it with: ductor serve')
      io.stdout.write(lines.join('\n') + '\n')
      io.exitCode = running ? 0 : 3
    })
}

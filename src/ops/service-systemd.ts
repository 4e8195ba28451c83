import { mkdir, readFile, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '../atomic-json.ts'
import { renderSystemdUnit, systemdUnitPath, SYSTEMD_UNIT_NAME } from './systemd.ts'
import { ServiceError, exists, firstLine, type ServiceContext, type ServiceManager, type ServiceStatus } from './service-types.ts'
import type { CommandResult } from './runner.ts'

/**
 * Environment for `systemctl --user`: when XDG_RUNTIME_DIR is missing (a `sudo -iu` or `su` shell)
 * but the user's manager runs (linger, or a login elsewhere), point at its runtime directory so the
 * user bus is found.
 */
export function userBusEnv (env: NodeJS.ProcessEnv, uid: number, runtimeDirExists: boolean, runtimeRoot = '/run/user'): NodeJS.ProcessEnv {
  if ((env['XDG_RUNTIME_DIR'] ?? '') !== '' || !runtimeDirExists) return {}
  return { XDG_RUNTIME_DIR: join(runtimeRoot, String(uid)) }
}

/** Parses `systemctl show --property=…` output (`Key=value` lines). */
function parseShow (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).trim()
  }
  return out
}

export function createSystemdManager (ctx: ServiceContext): ServiceManager {
  const unitPath = systemdUnitPath(ctx.env, ctx.userHome)
  const runtimeRoot = ctx.runtimeRoot ?? '/run/user'

  const systemctl = async (args: string[], inherit = false): Promise<CommandResult> => {
    const env = userBusEnv(ctx.env, ctx.uid, await exists(join(runtimeRoot, String(ctx.uid))), runtimeRoot)
    return await ctx.runner('systemctl', ['--user', ...args], { env, inherit, timeoutMs: 60_000 })
  }
  const must = async (args: string[], hint = ''): Promise<void> => {
    const result = await systemctl(args)
    if (result.exitCode !== 0) throw new ServiceError(explain(result, args, ctx.user) + hint)
  }

  return {
    kind: 'systemd',
    definitionPath: unitPath,
    render: renderSystemdUnit,

    async install (spec, opts) {
      await mkdir(dirname(unitPath), { recursive: true })
      await writeFileAtomic(unitPath, renderSystemdUnit(spec))
      const written = ` (the unit was written to ${unitPath})`
      await must(['daemon-reload'], written)
      await must(['enable', SYSTEMD_UNIT_NAME], written)
      if (opts.start) await must(['restart', SYSTEMD_UNIT_NAME], written)
      const notes: string[] = []
      if (!await exists(join(ctx.lingerDir ?? '/var/lib/systemd/linger', ctx.user))) {
        notes.push(`Linger is off for ${ctx.user}: ductor stops when you log out and starts only when you log in. ` +
          `To keep it running and start it at boot: sudo loginctl enable-linger ${ctx.user}`)
      }
      return { path: unitPath, started: opts.start, notes }
    },

    async uninstall () {
      const had = await exists(unitPath)
      const args = ['disable', '--now', SYSTEMD_UNIT_NAME]
      const result = await systemctl(args)
      const unreachable = result.notFound || /Failed to connect to (the )?bus|No medium found|DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR/i.test(result.stderr)
      if (result.exitCode !== 0 && !unreachable && !/not (found|loaded)|does not exist|No such file/i.test(result.stderr)) {
        throw new ServiceError(explain(result, args, ctx.user))
      }
      // systemd out of reach (a container, su without a login session): the file goes anyway, so
      // nothing starts it again at the next boot or login; what could not be done is said.
      if (had) await unlink(unitPath)
      if (unreachable) {
        return { removed: had, note: `${explain(result, args, ctx.user)}. So the unit was not stopped or disabled; if a ductor it started still runs, stop it (ductor status shows its pid)` }
      }
      await systemctl(['daemon-reload'])
      return { removed: had, note: null }
    },

    start: async () => { await must(['start', SYSTEMD_UNIT_NAME]) },
    stop: async () => { await must(['stop', SYSTEMD_UNIT_NAME]) },
    restart: async () => { await must(['restart', SYSTEMD_UNIT_NAME]) },

    async status (): Promise<ServiceStatus> {
      const installed = await exists(unitPath)
      const args = ['show', SYSTEMD_UNIT_NAME, '--property=LoadState,ActiveState,SubState,UnitFileState,MainPID,NRestarts,ExecMainStatus']
      const result = await systemctl(args)
      if (result.exitCode !== 0) throw new ServiceError(explain(result, args, ctx.user))
      const p = parseShow(result.stdout)
      const active = p['ActiveState'] === 'active'
      const pid = Number(p['MainPID'] ?? '0')
      const exit = p['ExecMainStatus'] === undefined || p['ExecMainStatus'] === '' ? null : Number(p['ExecMainStatus'])
      let state = `${p['ActiveState'] ?? 'unknown'} (${p['SubState'] ?? 'unknown'})`
      if (p['ActiveState'] === 'failed' && exit !== null) state = `failed (exit ${exit})`
      if (p['LoadState'] === 'not-found') state = 'not installed'
      return {
        kind: 'systemd',
        installed,
        definitionPath: unitPath,
        active,
        state,
        pid: active && pid > 0 ? pid : null,
        restarts: p['NRestarts'] === undefined || p['NRestarts'] === '' ? null : Number(p['NRestarts']),
        lastExitCode: exit,
        enabled: p['UnitFileState'] === 'enabled'
      }
    },

    async logs (opts) {
      const out = opts.out ?? { stdout: (text: string) => { process.stdout.write(text) }, stderr: (text: string) => { process.stderr.write(text) } }
      const env = userBusEnv(ctx.env, ctx.uid, await exists(join(runtimeRoot, String(ctx.uid))), runtimeRoot)
      const args = ['--user', '-u', SYSTEMD_UNIT_NAME, '-n', String(opts.lines), '--no-pager', '-o', 'cat', ...(opts.follow ? ['-f'] : [])]
      const logFile = join(ctx.logDir, 'ductor.log')
      if (opts.follow) {
        const result = await ctx.runner('journalctl', args, { env, inherit: true })
        if (result.notFound) throw new ServiceError(`journalctl is not installed; follow the service's own log instead: tail -F ${logFile}`)
        return result.exitCode
      }
      const result = await ctx.runner('journalctl', args, { env })
      const lines = result.stdout.split('\n').filter((l) => l.trim() !== '' && !/^-- No entries --$/.test(l.trim()))
      if (!result.notFound && result.exitCode === 0 && lines.length > 0) {
        out.stdout(result.stdout.endsWith('\n') ? result.stdout : result.stdout + '\n')
        return 0
      }
      // No journal for the unit (never started by systemd, no journald, no access): the log file.
      const why = result.notFound ? 'journalctl is not installed' : result.exitCode !== 0 ? `journalctl failed: ${firstLine(result)}` : `the journal has no lines for ${SYSTEMD_UNIT_NAME}`
      const text = await readFile(logFile, 'utf8').catch(() => null)
      if (text === null) throw new ServiceError(`no logs yet: ${why}, and ${logFile} does not exist (ductor has not run on this home)`)
      const tail = text.split('\n').filter((l) => l !== '').slice(-opts.lines)
      out.stderr(`${why}; the last ${tail.length} lines of ${logFile}:\n`)
      out.stdout(tail.join('\n') + (tail.length > 0 ? '\n' : ''))
      return 0
    }
  }
}

/** One line saying what went wrong with `systemctl --user` and what to do about it. */
export function explain (result: CommandResult, args: string[], user: string): string {
  if (result.notFound) {
    return 'systemctl is not installed: this system does not run systemd. Run `ductor serve` under your own supervisor, or use Docker (docs/installation.md)'
  }
  const line = firstLine(result)
  if (/Failed to connect to (the )?bus|No medium found|DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR/i.test(result.stderr)) {
    return `systemctl --user cannot reach ${user}'s systemd (${line}). This happens in a container, after su or sudo -u, or without a login session: ` +
      `log in as ${user} directly (ssh), or run \`sudo loginctl enable-linger ${user}\` and try again`
  }
  return `systemctl --user ${args.join(' ')} failed: ${line}`
}

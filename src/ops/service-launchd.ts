import { mkdir, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '../atomic-json.ts'
import { LAUNCHD_LABEL, launchdPlistPath, renderLaunchdPlist } from './launchd.ts'
import { ServiceError, exists, firstLine, type ServiceContext, type ServiceManager, type ServiceStatus } from './service-types.ts'
import type { CommandResult } from './runner.ts'

/** Parses the fields of `launchctl print gui/<uid>/<label>` that status needs. */
function parseLaunchctlPrint (text: string): { state: string | null, pid: number | null, runs: number | null, lastExitCode: number | null } {
  const field = (name: string) => new RegExp(`^\\s*${name} = (.+)$`, 'm').exec(text)?.[1]?.trim() ?? null
  const num = (value: string | null) => value === null || !/^-?\d+$/.test(value) ? null : Number(value)
  return { state: field('state'), pid: num(field('pid')), runs: num(field('runs')), lastExitCode: num(field('last exit code')) }
}

export function createLaunchdManager (ctx: ServiceContext): ServiceManager {
  const plist = launchdPlistPath(ctx.userHome)
  const domain = `gui/${ctx.uid}`
  const target = `${domain}/${LAUNCHD_LABEL}`

  const launchctl = async (args: string[]): Promise<CommandResult> => await ctx.runner('launchctl', args, { timeoutMs: 60_000 })
  const must = async (args: string[]): Promise<void> => {
    const result = await launchctl(args)
    if (result.exitCode !== 0) throw new ServiceError(explainLaunchctl(result, args))
  }
  const loaded = async (): Promise<CommandResult | null> => {
    const result = await launchctl(['print', target])
    if (result.notFound) throw new ServiceError(explainLaunchctl(result, ['print', target]))
    return result.exitCode === 0 ? result : null
  }
  const bootstrap = async (): Promise<void> => {
    if (!await exists(plist)) throw new ServiceError(`ductor is not installed as a service (no ${plist}); run: ductor service install`)
    await must(['bootstrap', domain, plist])
  }

  return {
    kind: 'launchd',
    definitionPath: plist,
    render: renderLaunchdPlist,

    async install (spec, opts) {
      await mkdir(dirname(plist), { recursive: true })
      await mkdir(spec.logDir, { recursive: true })
      await writeFileAtomic(plist, renderLaunchdPlist(spec))
      if (opts.start) {
        if (await loaded() !== null) await must(['bootout', target])
        await bootstrap()
      }
      return {
        path: plist,
        started: opts.start,
        notes: ['A launch agent runs while you are logged in (it starts again at each login). For a Mac that must serve with nobody logged in, see docs/installation.md.']
      }
    },

    async uninstall () {
      const had = await exists(plist)
      if (await loaded() !== null) await must(['bootout', target])
      if (had) await unlink(plist)
      return { removed: had, note: null }
    },

    async start () {
      if (await loaded() !== null) await must(['kickstart', target])
      else await bootstrap()
    },
    async stop () {
      // bootout, not kill: KeepAlive would start a killed agent again at once.
      if (await loaded() !== null) await must(['bootout', target])
    },
    async restart () {
      if (await loaded() !== null) await must(['kickstart', '-k', target])
      else await bootstrap()
    },

    async status (): Promise<ServiceStatus> {
      const installed = await exists(plist)
      const result = await loaded()
      const p = result === null ? null : parseLaunchctlPrint(result.stdout)
      const active = p?.state === 'running'
      return {
        kind: 'launchd',
        installed,
        definitionPath: plist,
        active,
        state: p === null ? 'not loaded' : (p.state ?? 'unknown'),
        pid: active ? (p?.pid ?? null) : null,
        restarts: p?.runs === null || p?.runs === undefined ? null : Math.max(0, p.runs - 1),
        lastExitCode: p?.lastExitCode ?? null,
        enabled: installed
      }
    },

    async logs (opts) {
      const files = []
      for (const file of [join(ctx.logDir, 'launchd-stderr.log'), join(ctx.logDir, 'ductor.log')]) {
        if (await exists(file)) files.push(file)
      }
      if (files.length === 0) throw new ServiceError(`no logs yet in ${ctx.logDir}`)
      const result = await ctx.runner('tail', ['-n', String(opts.lines), ...(opts.follow ? ['-F'] : []), ...files], { inherit: true })
      return result.exitCode
    }
  }
}

function explainLaunchctl (result: CommandResult, args: string[]): string {
  if (result.notFound) return 'launchctl is not installed (this is not macOS?)'
  return `launchctl ${args.join(' ')} failed: ${firstLine(result)}`
}

import { Command } from 'commander'
import { resolveHome, homePaths } from '../home/paths.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { readServiceInfo } from '../home/service-info.ts'

/** `ductor status`: whether the service runs, its pid, address and home. Exit 0 running, 3 not. */
export function statusCommand (): Command {
  return new Command('status')
    .description('say whether the service is running, with its pid, address and home')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const home = resolveHome()
      const paths = homePaths(home)
      const [holder, info] = await Promise.all([readPidFile(paths.pidFile), readServiceInfo(paths.state)])
      const running = holder?.alive === true
      const pid = running ? holder.pid : null
      const url = info?.url ?? null
      const adminUrl = info?.admin_url ?? null
      const healthy = url !== null && await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ running, healthy, pid, url, admin_url: adminUrl, version: info?.version ?? null, home }) + '\n')
      } else if (running) {
        process.stdout.write(`ductor is running (pid ${String(pid)})${healthy ? '' : ', but /health does not answer yet'}\n` +
          `  address    ${url ?? 'unknown (starting)'}\n  admin API  ${adminUrl ?? 'off'}\n  home       ${home}\n`)
      } else {
        process.stdout.write(`ductor is not running\n  home       ${home}\n  start it with: ductor serve\n`)
      }
      process.exitCode = running ? 0 : 3
    })
}

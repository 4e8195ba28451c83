import { Command } from 'commander'
import { resolveHome, homePaths } from '../home/paths.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { readServiceInfo } from '../home/service-info.ts'
import { connectApi } from './api-client.ts'
import type { CliIo } from './io.ts'

/** Telegram's state as `/api/status` tells it ("up", "down: …"), or null when the API cannot say. */
async function telegramState (env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const api = await connectApi(env)
    const status = await Promise.race([
      api.request<{ telegram: string }>('GET', '/status'),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000).unref())
    ])
    return status?.telegram ?? null
  } catch {
    return null
  }
}

function telegramHint (state: string): string {
  if (state.startsWith('off')) return '; turn it on with: ductor init, then restart ductor'
  if (state.startsWith('down')) return ' (ductor keeps retrying; see the log: ductor service logs, or logs/ductor.log)'
  return ''
}

/** `ductor status`: whether the service runs, its pid, address and home. Exit 0 running, 3 not. */
export function statusCommand (io: CliIo): Command {
  return new Command('status')
    .description('say whether the service is running, with its pid, address and home')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const home = resolveHome(io.env)
      const paths = homePaths(home)
      const [holder, info] = await Promise.all([readPidFile(paths.pidFile), readServiceInfo(paths.state)])
      const running = holder?.alive === true
      const pid = running ? holder.pid : null
      const url = info?.url ?? null
      const adminUrl = info?.admin_url ?? null
      const healthy = url !== null && await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
      const telegram = running && healthy ? await telegramState(io.env) : null
      if (opts.json === true) {
        io.stdout.write(JSON.stringify({ running, healthy, pid, url, admin_url: adminUrl, version: info?.version ?? null, home, telegram }) + '\n')
      } else if (running) {
        io.stdout.write(`ductor is running (pid ${String(pid)})${healthy ? '' : ', but /health does not answer yet'}\n` +
          `  address    ${url ?? 'unknown (starting)'}\n  admin API  ${adminUrl ?? 'off'}\n  home       ${home}\n` +
          (telegram === null ? '' : `  telegram   ${telegram}${telegramHint(telegram)}\n`))
      } else {
        io.stdout.write(`ductor is not running\n  home       ${home}\n  start it with: ductor serve\n`)
      }
      io.exitCode = running ? 0 : 3
    })
}

import { Command } from 'commander'
import { resolveHome } from '../home/paths.ts'
import { runDoctor, formatChecklist } from '../ops/doctor.ts'
import { processFacts } from '../ops/process-context.ts'
import { createCommandRunner } from '../ops/runner.ts'
import type { CliIo } from './io.ts'

/** `ductor doctor`: checks the setup and prints a short checklist with fixes; exit 1 when a check fails. */
export function doctorCommand (io: CliIo): Command {
  return new Command('doctor')
    .description('check Node, the CLIs and their logins, the config, the home, the port and Telegram; print fixes')
    .option('--json', 'print the checks as a JSON list')
    .option('--timeout <ms>', 'timeout of each network request', '5000')
    .action(async (opts: { json?: boolean, timeout: string }) => {
      const env = io.env
      const home = resolveHome(env)
      const timeoutMs = Number(opts.timeout)
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`--timeout: "${opts.timeout}" is not a number of milliseconds`)
      const results = await runDoctor({
        ...processFacts(env),
        home,
        env,
        nodeVersion: process.versions.node,
        runner: createCommandRunner({ env }),
        fetch,
        timeoutMs
      })
      io.stdout.write(opts.json === true ? JSON.stringify(results, null, 2) + '\n' : formatChecklist(results, home))
      io.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0
    })
}

import { Command } from 'commander'
import { spawn } from 'node:child_process'
import { RESTART_EXIT_CODE } from '../exit-codes.ts'

/**
 * `ductor serve`: runs the service. By default it supervises: the service runs in a child process
 * that is started again when it exits with 42 (`/restart`, an upgrade). Signals are passed on.
 */
export function serveCommand (): Command {
  return new Command('serve')
    .description('run the ductor service (the default command)')
    .option('--no-supervisor', 'run the service in this process; do not restart it on exit code 42')
    .action(async (opts: { supervisor: boolean }) => {
      if (!opts.supervisor || process.env['DUCTOR_SUPERVISED'] === '1') {
        const { runService } = await import('../main.ts')
        await runService()
        return
      }
      await supervise()
    })
}

async function supervise (): Promise<never> {
  const script = process.argv[1] as string
  let child: ReturnType<typeof spawn> | undefined
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      stopping = true
      child?.kill(signal)
    })
  }
  for (;;) {
    child = spawn(process.execPath, [...process.execArgv, script, 'serve', '--no-supervisor'], {
      stdio: 'inherit',
      env: { ...process.env, DUCTOR_SUPERVISED: '1' }
    })
    const code = await new Promise<number>((resolve) => {
      child?.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + signalNumber(signal))))
    })
    if (code !== RESTART_EXIT_CODE || stopping) process.exit(code)
    process.stderr.write('ductor: restarting\n')
  }
}

function signalNumber (signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1
}

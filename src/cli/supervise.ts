/**
 * The supervisor of `ductor serve` and the way into the service. This file is what `ductor serve`
 * loads (src/cli/entry.ts takes a short path to it): it imports only node:child_process and, when
 * needed, the few modules it uses, so the supervisor costs little more than a bare node (ADR 25).
 */
import { spawn } from 'node:child_process'
import { RESTART_EXIT_CODE } from '../exit-codes.ts'

/** Runs the service here (`--no-supervisor`, or as the supervisor's child) or supervises it. */
export async function runServe (supervisor: boolean, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!supervisor || env['DUCTOR_SUPERVISED'] === '1') {
    const { runService } = await import('../main.ts')
    await runService({ env })
    return
  }
  await supervise()
}

export async function supervise (): Promise<never> {
  const script = process.argv[1] as string
  let child: ReturnType<typeof spawn> | undefined
  let stopping = false
  let hungUp = false
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      stopping = true
      if (signal === 'SIGHUP') hungUp = true
      // The service stops once, however many copies reach it (it got its own when the whole group was signalled).
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
    child = undefined
    // A child that died (kill -9, a crash) leaves its CLIs running in their own process groups.
    await endChildClis()
    if (code !== RESTART_EXIT_CODE || stopping) {
      if (hungUp) {
        const { releaseHungUpTerminal } = await import('../hangup.ts')
        releaseHungUpTerminal()
      }
      process.exit(code)
    }
    process.stderr.write('ductor: restarting\n')
  }
}

async function endChildClis (): Promise<void> {
  try {
    const { resolveHome, homePaths } = await import('../home/paths.ts')
    const { killRecordedGroups } = await import('../store/cli-groups.ts')
    const { join } = await import('node:path')
    const killed = await killRecordedGroups(join(homePaths(resolveHome(process.env)).state, 'cli-groups.jsonl'))
    if (killed > 0) process.stderr.write(`ductor: ended ${killed} CLI process(es) the service left running\n`)
  } catch (err) {
    process.stderr.write(`ductor: could not end the service's CLI processes: ${(err as Error).message}\n`)
  }
}

function signalNumber (signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1
}

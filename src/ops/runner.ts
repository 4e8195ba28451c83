/** What a finished external command gave back. */
export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The program is not installed (ENOENT); exitCode is then 127. */
  notFound: boolean
  timedOut: boolean
}

export interface RunOptions {
  /** Let the command use this terminal (logs, npm's progress); stdout/stderr are then not captured. */
  inherit?: boolean
  timeoutMs?: number
  /** Variables added to the environment of the command. */
  env?: NodeJS.ProcessEnv
  /** Working directory (default: this process's). */
  cwd?: string
  /** Ends the command (SIGTERM) when aborted, e.g. when the service closes. */
  signal?: AbortSignal
}

/**
 * Runs an external program (`systemctl`, `launchctl`, `journalctl`, `npm`, a CLI's `--version`).
 * Injected everywhere so tests never touch the real system. Never throws for a failing command.
 */
export type CommandRunner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<CommandResult>

/** The real runner (execa): no shell, stdin closed, never rejects. */
export function createCommandRunner (opts: { env?: NodeJS.ProcessEnv } = {}): CommandRunner {
  return async (file, args, run = {}) => {
    // Imported when first needed: the service loads this module (Telegram /upgrade) but rarely runs it.
    const { execa } = await import('execa')
    const result = await execa(file, [...args], {
      reject: false,
      env: { ...(opts.env ?? process.env), ...run.env },
      extendEnv: false,
      stdin: run.inherit === true ? 'inherit' : 'ignore',
      stdout: run.inherit === true ? 'inherit' : 'pipe',
      stderr: run.inherit === true ? 'inherit' : 'pipe',
      timeout: run.timeoutMs,
      ...(run.cwd !== undefined ? { cwd: run.cwd } : {}),
      ...(run.signal !== undefined ? { cancelSignal: run.signal } : {}),
      stripFinalNewline: false
    })
    const notFound = result.code === 'ENOENT'
    return {
      exitCode: result.exitCode ?? (notFound ? 127 : 1),
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: notFound ? `${file}: command not found` : typeof result.stderr === 'string' ? result.stderr : '',
      notFound,
      timedOut: result.timedOut
    }
  }
}

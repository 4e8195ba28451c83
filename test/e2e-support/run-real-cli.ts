// Runs a real CLI the way the service must: stdin ignored (an open stdin makes Codex wait for EOF
// and Claude wait 3 s), its own process group, and a deadline that kills the whole group.
import { spawn, type ChildProcess } from 'node:child_process'

export interface CliLine {
  /** ms since spawn when the line was complete on stdout. */
  at: number
  text: string
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout lines with the time each arrived, to check that output streams rather than comes at the end. */
  lines: CliLine[]
  wallMs: number
}

export interface RunningCli {
  child: ChildProcess
  /** Settles when the process has exited and its pipes are closed; rejects after the deadline. */
  done: Promise<CliResult>
  /** Signals the whole process group (Codex's node launcher and its native child, Claude's tools). */
  kill: (signal?: NodeJS.Signals) => void
}

export interface CliSetup { binPath: string, env: Record<string, string>, cwd: string }

export function spawnRealCli (setup: CliSetup, args: string[], options: { timeoutMs?: number } = {}): RunningCli {
  const started = performance.now()
  const child = spawn(setup.binPath, args, {
    cwd: setup.cwd,
    env: setup.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): void => {
    if (child.pid === undefined) return
    try { process.kill(-child.pid, signal) } catch { /* the group is gone */ }
  }
  let stdout = ''
  let stderr = ''
  let partial = ''
  const lines: CliLine[] = []
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    const at = performance.now() - started
    for (const text of parts) lines.push({ at, text })
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })

  const timeoutMs = options.timeoutMs ?? 30_000
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill('SIGKILL')
      reject(new Error(`${setup.binPath} ${args.join(' ')} did not finish within ${timeoutMs} ms; its process group was killed.\n` +
        `stderr: ${stderr.slice(-2000)}\nstdout: ${stdout.slice(-2000)}`))
    }, timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`cannot start ${setup.binPath}: ${err.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      kill('SIGKILL') // nothing it started may outlive it
      if (partial !== '') lines.push({ at: performance.now() - started, text: partial })
      resolve({ code, signal, stdout, stderr, lines, wallMs: Math.round(performance.now() - started) })
    })
  })
  return { child, done, kill }
}

/** Runs a real CLI to the end (see spawnRealCli). */
export async function runRealCli (setup: CliSetup, args: string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  return await spawnRealCli(setup, args, options).done
}

/** Parses JSONL output; a line that is not a JSON object fails loudly with the line. */
export function jsonLines (stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((line) => line.trim() !== '').map((line) => {
    let value: unknown
    try { value = JSON.parse(line) } catch { throw new Error(`not a JSON line: ${line.slice(0, 500)}`) }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not a JSON object: ${line.slice(0, 500)}`)
    return value as Record<string, unknown>
  })
}

import { buildCli } from '../../src/cli/main.ts'
import type { CliRun } from '../helper.ts'

/**
 * Runs `ductor ARGS` in this process (the same command tree as the real `ductor`; the failure line is
 * main()'s `ductor: <message>`): spawning the CLI costs seconds per call on a loaded machine.
 */
export async function ductorInProcess (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  let stdout = ''
  let stderr = ''
  const out = process.stdout.write.bind(process.stdout)
  const err = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true }) as typeof process.stderr.write
  let code = 0
  try {
    const program = buildCli()
    program.configureOutput({ writeOut: (s) => { stdout += s }, writeErr: (s) => { stderr += s } })
    await program.parseAsync(['node', 'ductor', ...args])
  } catch (e) {
    code = typeof (e as { exitCode?: unknown }).exitCode === 'number' ? (e as { exitCode: number }).exitCode : 1
    if ((e as Error).name !== 'CommanderError') stderr += `ductor: ${(e as Error).message}\n`
  } finally {
    process.stdout.write = out
    process.stderr.write = err
    for (const [k, v] of saved) { if (v === undefined) Reflect.deleteProperty(process.env, k); else process.env[k] = v }
  }
  return { code, signal: null, stdout, stderr }
}

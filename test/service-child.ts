import type { TestContext } from 'node:test'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ROOT } from './helper.ts'

const CHILD = fileURLToPath(new URL('./service-child-main.ts', import.meta.url))

export interface ServiceChild { child: ChildProcess, url: string, /** The admin API's own listener (ADR 14). */ adminUrl: string, exited: Promise<number | null>, stderr: () => string }

/**
 * The whole service in a child process on $DUCTOR_HOME (crash tests: SIGKILL it, start it again on
 * the same home). Resolves once it listens; killed when the test ends.
 */
export async function startServiceChild (t: TestContext, env: NodeJS.ProcessEnv): Promise<ServiceChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const [url = '', adminUrl = ''] = await new Promise<string[]>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => { if (line.startsWith('url ')) resolve(line.slice(4).split(' ')) })
    exited.then((code) => reject(new Error(`the service exited (${code}) before listening:\n${stderr.slice(-3000)}`)), () => {})
  })
  return { child, url, adminUrl, exited, stderr: () => stderr }
}

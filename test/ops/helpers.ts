import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { CommandResult, CommandRunner, RunOptions } from '../../src/ops/runner.ts'

/** Writes an executable shell script `dir/name`. */
export async function fakeExecutable (dir: string, name: string, script: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, name)
  await writeFile(path, `#!/bin/sh\n${script}\n`)
  await chmod(path, 0o755)
  return path
}

export interface RecordedCall { file: string, args: string[], opts: RunOptions }

/** A runner that records each call and answers from `answer` (default: exit 0, no output). */
export function recordingRunner (answer: (call: RecordedCall) => Partial<CommandResult> | undefined = () => undefined): { runner: CommandRunner, calls: RecordedCall[] } {
  const calls: RecordedCall[] = []
  const runner: CommandRunner = async (file, args, opts = {}) => {
    const call = { file, args: [...args], opts }
    calls.push(call)
    return { exitCode: 0, stdout: '', stderr: '', notFound: false, timedOut: false, ...answer(call) }
  }
  return { runner, calls }
}

/** A small HTTP server on 127.0.0.1, closed when the test ends. */
export async function localServer (t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string, port: number, paths: string[] }> {
  const paths: string[] = []
  const server = createServer((req, res) => {
    paths.push(req.url ?? '')
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, port, paths }
}

export function json (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** A port that was free a moment ago. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return typeof address === 'object' && address !== null ? address.port : 0
}

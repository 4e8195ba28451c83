/**
 * The compiled service, started as a user would start it (`node bin/ductor.js serve --no-supervisor`),
 * from a package built into a temporary directory (nothing is written into the checkout), on a
 * temporary home. Also: a bare node:http server with the same start-up path for baselines.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

export interface BuiltPackage {
  dir: string
  bin: string
  cleanup: () => Promise<void>
}

/**
 * `tsc -p tsconfig.build.json` into `<tmp>/dist`, next to copies of package.json and bin/ and
 * links to templates/ and node_modules/: the same layout as an installed package. BENCH_PKG names
 * one already built (bench/run.ts builds once for every benchmark).
 */
export async function buildPackage (): Promise<BuiltPackage> {
  const given = process.env['BENCH_PKG']
  if (given !== undefined && given !== '') return { dir: given, bin: join(given, 'bin', 'ductor.js'), cleanup: async () => {} }
  const dir = await mkdtemp(join(tmpdir(), 'ductor-bench-pkg-'))
  await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist'), '--sourceMap', 'false', '--incremental', 'false'], { cwd: ROOT })
  await mkdir(join(dir, 'bin'))
  // All of bin/: the service starts bin/ductor-spawner.mjs (and Claude bin/ductor-approval-mcp.mjs).
  for (const file of await readdir(join(ROOT, 'bin'))) await copyFile(join(ROOT, 'bin', file), join(dir, 'bin', file))
  await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'))
  await symlink(join(ROOT, 'templates'), join(dir, 'templates'))
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return { dir, bin: join(dir, 'bin', 'ductor.js'), cleanup: async () => { await rm(dir, { recursive: true, force: true }) } }
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

/** A fresh home (removed by `cleanup`), optionally with a config and other files written first. */
export async function tempHome (files: Record<string, unknown> = {}): Promise<{ home: string, cleanup: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'ductor-bench-home-'))
  for (const [rel, content] of Object.entries(files)) {
    const path = join(home, rel)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
  return { home, cleanup: async () => { await rm(home, { recursive: true, force: true }) } }
}

export interface Started {
  child: ChildProcess
  url: string
  /** The admin API's own listener (ADR 13); the bare baselines have none. */
  adminUrl?: string
  /** Milliseconds from spawn to the first `/health` 200. */
  startMs: number
  stop: () => Promise<void>
}

/** Polls `GET url/health` every 2 ms until 200 (or the child exits, or `timeoutMs`). */
async function waitHealthy (child: ChildProcess, url: string, startedAt: bigint, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  child.once('exit', () => { exited = true })
  for (;;) {
    try {
      const res = await fetch(`${url}/health`)
      await res.arrayBuffer()
      if (res.ok) return Number(process.hrtime.bigint() - startedAt) / 1e6
    } catch {}
    if (exited) throw new Error('the process exited before answering /health')
    if (Date.now() > deadline) throw new Error(`no /health 200 within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

export interface StartServiceOptions {
  pkg: BuiltPackage
  home: string
  env?: NodeJS.ProcessEnv
  /** Extra node flags, e.g. ['--import', monitorPath]. */
  nodeArgs?: string[]
  /** 'ipc' adds an IPC channel (the loop monitor answers on it). */
  ipc?: boolean
  timeoutMs?: number
  /** Start `ductor serve` as a user does, supervisor and child (default: the service alone, `--no-supervisor`). */
  supervised?: boolean
  /** Its own session (setsid), hence its own scheduler autogroup on Linux, as a service started from its own terminal or unit. */
  ownSession?: boolean
}

/** Starts the compiled service on `home` and a free loopback port; resolves at the first /health 200. */
export async function startService (opts: StartServiceOptions): Promise<Started> {
  const port = await freePort()
  const adminPort = await freePort()
  const url = `http://127.0.0.1:${port}`
  const startedAt = process.hrtime.bigint()
  // BENCH_SERVICE_NODE_ARGS: extra node flags for the service, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const extra = (process.env['BENCH_SERVICE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')
  const nodeArgs = [...extra, ...(opts.nodeArgs ?? [])]
  // Supervised: the `ductor` command as npm installs it (bin/ductor, whose shell supervises the
  // service, ADR 46), this node for it (DUCTOR_NODE) and the node flags through NODE_OPTIONS.
  const [command, ...args] = opts.supervised === true
    ? [join(opts.pkg.dir, 'bin', 'ductor'), 'serve']
    : [process.execPath, ...nodeArgs, opts.pkg.bin, 'serve', '--no-supervisor']
  const supervisedEnv: NodeJS.ProcessEnv = opts.supervised === true
    ? { DUCTOR_NODE: process.execPath, ...(nodeArgs.length > 0 ? { NODE_OPTIONS: [process.env['NODE_OPTIONS'] ?? '', ...nodeArgs].join(' ').trim() } : {}) }
    : {}
  const child = spawn(command ?? process.execPath, args, {
    cwd: opts.home,
    env: { ...process.env, NODE_ENV: 'production', DUCTOR_HOME: opts.home, DUCTOR_HOST: '127.0.0.1', DUCTOR_PORT: String(port), DUCTOR_ADMIN_PORT: String(adminPort), DUCTOR_LOG_LEVEL: 'WARNING', ...supervisedEnv, ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe', ...(opts.ipc === true ? ['ipc' as const] : [])],
    detached: opts.ownSession === true
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
  try {
    const startMs = await waitHealthy(child, url, startedAt, opts.timeoutMs ?? 30_000)
    return { child, url, adminUrl: `http://127.0.0.1:${adminPort}`, startMs, stop: async () => { await stopChild(child) } }
  } catch (err) {
    await stopChild(child)
    throw new Error(`${(err as Error).message}; stderr: ${stderr.trim()}`)
  }
}

/**
 * The baseline: a bare `node -e` node:http server, started and polled the same way. `durableDir`
 * makes it the floor of a journaled acknowledgement instead: each body is appended to a file in that
 * directory and fdatasynced (no group commit) before the answer.
 */
export async function startBareServer (opts: { status?: number, nodeArgs?: string[], ipc?: boolean, durableDir?: string } = {}): Promise<Started> {
  const port = await freePort()
  const status = opts.status ?? 200
  const answer = `res.writeHead(${status}, { 'content-type': 'application/json' }); res.end('{"status":"ok"}')`
  const code = opts.durableDir === undefined
    ? `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { ${answer} }) }).listen(${port}, '127.0.0.1')`
    : `(async () => { const fh = await require('node:fs/promises').open(${JSON.stringify(join(opts.durableDir, 'bare-journal.jsonl'))}, 'a');
       require('node:http').createServer((req, res) => { const parts = []; req.on('data', (c) => parts.push(c)); req.on('end', async () => {
         if (req.method === 'POST') { await fh.write(Buffer.concat([...parts, Buffer.from('\\n')])); await fh.datasync() }
         ${answer} }) }).listen(${port}, '127.0.0.1') })()`
  return await startBaseline(port, [...(opts.nodeArgs ?? []), '-e', code], opts.ipc === true)
}

/** The framework baseline for P1: bare Fastify with the hooks route's body parser and a 202 (bench/lib/bare-fastify.mjs). */
export async function startBareFastify (): Promise<Started> {
  const port = await freePort()
  return await startBaseline(port, [fileURLToPath(new URL('bare-fastify.mjs', import.meta.url)), String(port)], false)
}

/**
 * The durable floor for F3/F4: a bare node:http server that appends each body to `file` and answers
 * 202 only after a group-committed fdatasync covers it (bench/lib/bare-durable.mjs).
 */
export async function startBareDurable (file: string): Promise<Started> {
  const port = await freePort()
  return await startBaseline(port, [fileURLToPath(new URL('bare-durable.mjs', import.meta.url)), String(port), file], false)
}

/** A baseline server: `node <args>` listening on `port`, started and polled like the service. */
async function startBaseline (port: number, args: string[], ipc: boolean): Promise<Started> {
  const url = `http://127.0.0.1:${port}`
  const startedAt = process.hrtime.bigint()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', ...(ipc ? ['ipc' as const] : [])] })
  const startMs = await waitHealthy(child, url, startedAt, 30_000)
  return { child, url, startMs, stop: async () => { await stopChild(child) } }
}

/** The children of `pid`, from /proc (empty when it has none or is gone). */
async function childrenOf (pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')
  return children.trim().split(/\s+/).filter((c) => c !== '').map(Number)
}

/** The first child of `pid` (the service a supervisor started), from /proc. */
export async function childPid (pid: number): Promise<number | undefined> {
  return (await childrenOf(pid))[0]
}

/** Every process below `pid` (children, their children…), from /proc: what `ductor serve` started. */
export async function descendants (pid: number): Promise<number[]> {
  const all: number[] = []
  for (const child of await childrenOf(pid)) all.push(child, ...await descendants(child))
  return all
}

/**
 * A process's memory split as smaps_rollup counts it (Linux only; undefined elsewhere): `private` is
 * what only it holds (USS), `shared` the resident pages it shares with other processes (mostly the
 * node binary's own code, which RSS counts again in every node process), in MB.
 */
export async function memorySplit (pid: number): Promise<{ private: number, shared: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8')
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN)
    const priv = kb('Private_Clean') + kb('Private_Dirty')
    const shared = kb('Shared_Clean') + kb('Shared_Dirty')
    return Number.isFinite(priv + shared) ? { private: priv / 1024, shared: shared / 1024 } : undefined
  } catch {
    return undefined
  }
}

/** Resident set size of a process, in MB (Linux /proc; `ps` elsewhere). */
export async function rssMb (pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
    if (kb !== undefined) return Number(kb) / 1024
  } catch {}
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)])
  return Number(stdout.trim()) / 1024
}

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { CommandRunner } from './runner.ts'
import { describeFetchError } from './net-error.ts'

const PACKAGE_NAME = 'ductor'
const DEFAULT_REGISTRY = 'https://registry.npmjs.org'

export type UpdateCheck =
  | { status: 'ok', current: string, latest: string, newer: boolean }
  | { status: 'error', current: string, message: string }

/** The registry npm itself would use: `npm_config_registry` (set by npm and by users), else npmjs.org. */
export function registryFromEnv (env: NodeJS.ProcessEnv): string {
  const fromEnv = env['npm_config_registry'] ?? env['NPM_CONFIG_REGISTRY']
  return (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_REGISTRY).replace(/\/+$/, '')
}

/**
 * Asks the npm registry for the `latest` version (`GET <registry>/<package>/latest`). Never throws:
 * an unreachable registry, a 404 or a bad answer come back as `status: 'error'` with a plain sentence.
 */
export async function checkForUpdate (current: string, fetchImpl: typeof fetch = fetch, opts: { registry?: string, packageName?: string, timeoutMs?: number } = {}): Promise<UpdateCheck> {
  const registry = (opts.registry ?? DEFAULT_REGISTRY).replace(/\/+$/, '')
  const name = opts.packageName ?? PACKAGE_NAME
  const url = `${registry}/${name.replace('/', '%2F')}/latest`
  const timeoutMs = opts.timeoutMs ?? 10_000
  let res: Response
  try {
    res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    return { status: 'error', current, message: `cannot reach the npm registry at ${registry}: ${describeFetchError(err, timeoutMs)}` }
  }
  if (res.status === 404) return { status: 'error', current, message: `${name} is not published on ${registry}` }
  if (!res.ok) return { status: 'error', current, message: `the npm registry at ${registry} answered HTTP ${res.status}` }
  const body = await res.json().catch(() => null) as { version?: unknown } | null
  const latest = body?.version
  if (typeof latest !== 'string' || parseVersion(latest) === null) return { status: 'error', current, message: `the npm registry at ${registry} gave no usable version for ${name}` }
  return { status: 'ok', current, latest, newer: compareVersions(latest, current) > 0 }
}

type Parsed = { core: [number, number, number], pre: string[] }

function parseVersion (v: string): Parsed | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim())
  if (m === null) return null
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] === undefined ? [] : m[4].split('.') }
}

/** Semantic-version order: negative when a < b, 0 when equal, positive when a > b (a pre-release sorts first). */
export function compareVersions (a: string, b: string): number {
  const pa = parseVersion(a)
  const pb = parseVersion(b)
  if (pa === null || pb === null) return a.localeCompare(b)
  for (let i = 0; i < 3; i++) {
    const d = (pa.core[i] as number) - (pb.core[i] as number)
    if (d !== 0) return d
  }
  if (pa.pre.length === 0 || pb.pre.length === 0) return pb.pre.length - pa.pre.length
  for (let i = 0; i < Math.max(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i]
    const y = pb.pre[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    if (x === y) continue
    const nx = /^\d+$/.test(x)
    const ny = /^\d+$/.test(y)
    if (nx && ny) return Number(x) - Number(y)
    if (nx !== ny) return nx ? -1 : 1
    return x < y ? -1 : 1
  }
  return 0
}

export type InstallKind = 'npm' | 'git'

/** How this copy of ductor was installed: a git checkout (update with git) or an npm package. */
export function installKind (root: string): InstallKind {
  return existsSync(join(root, '.git')) ? 'git' : 'npm'
}

/**
 * `npm install -g ductor@<version>` through the runner. The exact version just checked is installed
 * (not `@latest`), so what is announced after the restart is what was installed.
 */
export async function installVersion (runner: CommandRunner, version: string, opts: { packageName?: string, inherit?: boolean, registry?: string } = {}): Promise<{ ok: true } | { ok: false, message: string }> {
  const spec = `${opts.packageName ?? PACKAGE_NAME}@${version}`
  const args = ['install', '--global', spec, ...(opts.registry === undefined ? [] : ['--registry', opts.registry])]
  const result = await runner('npm', args, { inherit: opts.inherit, timeoutMs: 10 * 60_000 })
  if (result.exitCode === 0) return { ok: true }
  if (result.notFound) return { ok: false, message: 'npm is not on PATH; install Node.js with npm, or upgrade by hand' }
  const detail = (result.stderr + '\n' + result.stdout).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^npm warn/i.test(l))
  const hint = /EACCES|permission denied/i.test(result.stderr) ? ' (no permission to write the global npm folder: run it with sudo, or set an npm prefix you own)' : ''
  return { ok: false, message: `npm install --global ${spec} failed${result.timedOut ? ' (timed out)' : ''}: ${detail.find((l) => /ERR/.test(l)) ?? detail[0] ?? `exit ${result.exitCode}`}${hint}` }
}

/**
 * How to upgrade this copy by hand when the npm registry cannot tell (ductor is not published there,
 * or it cannot be reached): the way it was installed decides.
 */
export function manualUpgradeHint (kind: InstallKind, root: string): string {
  if (kind === 'git') return `this ductor runs from a git checkout (${root}): update it there with \`git pull && npm ci && npm run build\`, then restart ductor`
  return 'install the new version the way you installed this one — from a package file `npm install --global ./ductor-<version>.tgz`, from a folder `npm install --global /path/to/ductor`, or from a git URL `npm install --global git+https://…` — then restart ductor'
}

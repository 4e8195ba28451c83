import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-json.ts'
import type { CommandRunner } from './runner.ts'
import { checkForUpdate, compareVersions, installKind, type InstallKind } from './upgrade.ts'

/**
 * Where a newer ductor comes from, by how this copy was installed (issue 17): a git checkout is
 * compared with its upstream branch (when one is configured: `git fetch`, then the commits HEAD lacks),
 * anything else with the npm registry's `latest`. Nothing here throws, and an offline machine, a
 * checkout without upstream or an unpublished package are simply `unknown`: the periodic check stays
 * quiet about them (they are logged at debug level by the caller).
 */
export interface AvailableUpdate {
  kind: InstallKind
  current: string
  /** The version the upgrade brings (the upstream's package.json for a checkout). */
  latest: string
  /** What identifies this update, so it is announced once: the upstream commit, or the version. */
  id: string
  /** Commits the checkout lacks (git only). */
  commits: number
  /** One line per change, newest first (git: commit subjects; npm: empty, see the package page). */
  changelog: string[]
}

export type UpdateProbe =
  | { status: 'newer', update: AvailableUpdate }
  | { status: 'current', current: string }
  | { status: 'unknown', reason: string }

export interface ProbeOptions {
  root: string
  current: string
  runner: CommandRunner
  fetchImpl?: typeof fetch
  registry?: string
  timeoutMs?: number
}

/** The most commit subjects a notice's changelog lists. */
const changelogLines = 15

export async function probeUpdate (opts: ProbeOptions): Promise<UpdateProbe> {
  const kind = installKind(opts.root)
  if (kind === 'git') return await probeGit(opts)
  const check = await checkForUpdate(opts.current, opts.fetchImpl ?? fetch, { ...(opts.registry !== undefined ? { registry: opts.registry } : {}), timeoutMs: opts.timeoutMs ?? 10_000 })
  if (check.status === 'error') return { status: 'unknown', reason: check.message }
  if (!check.newer) return { status: 'current', current: opts.current }
  return { status: 'newer', update: { kind, current: opts.current, latest: check.latest, id: check.latest, commits: 0, changelog: [] } }
}

async function probeGit (opts: ProbeOptions): Promise<UpdateProbe> {
  const timeoutMs = opts.timeoutMs ?? 60_000
  const git = async (...args: string[]): Promise<{ ok: boolean, out: string, err: string }> => {
    const r = await opts.runner('git', ['-C', opts.root, ...args], { timeoutMs, env: { GIT_TERMINAL_PROMPT: '0' } })
    return { ok: r.exitCode === 0, out: r.stdout.trim(), err: (r.stderr.trim().split('\n')[0] ?? '') || (r.timedOut ? 'timed out' : `exit ${r.exitCode}`) }
  }
  const upstream = await git('rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{u}')
  if (!upstream.ok) return { status: 'unknown', reason: `the git checkout ${opts.root} has no upstream branch (${upstream.err})` }
  const fetched = await git('fetch', '--quiet')
  if (!fetched.ok) return { status: 'unknown', reason: `git fetch failed in ${opts.root}: ${fetched.err}` }
  const behind = await git('rev-list', '--count', 'HEAD..@{u}')
  const commits = Number(behind.out)
  if (!behind.ok || !Number.isInteger(commits)) return { status: 'unknown', reason: `cannot compare with ${upstream.out}: ${behind.err}` }
  if (commits === 0) return { status: 'current', current: opts.current }
  const head = await git('rev-parse', '@{u}')
  const pkg = await git('show', '@{u}:package.json')
  let latest = opts.current
  try {
    const v = (JSON.parse(pkg.out) as { version?: unknown }).version
    if (typeof v === 'string' && v !== '') latest = v
  } catch {}
  if (compareVersions(latest, opts.current) < 0) latest = opts.current
  const log = await git('log', '--no-merges', '--format=%s', `-n${changelogLines}`, 'HEAD..@{u}')
  return {
    status: 'newer',
    update: { kind: 'git', current: opts.current, latest, id: head.ok ? head.out : `${upstream.out}+${commits}`, commits, changelog: log.ok ? log.out.split('\n').filter((l) => l.trim() !== '') : [] }
  }
}

/** How an update is named to the user: "0.2.0", or "3 new commits" of a checkout on the same version. */
export function describeUpdate (u: AvailableUpdate): string {
  const commits = `${u.commits} new commit${u.commits === 1 ? '' : 's'}`
  if (u.kind === 'git') return u.latest === u.current ? `${commits} (upstream of this checkout)` : `${u.latest} (${commits})`
  return u.latest
}

/**
 * Upgrades a git checkout in place: `git pull --ff-only`, `npm ci`, `npm run build --if-present`.
 * Stops at the first failing step and says which; a checkout with local changes or a diverged
 * branch is refused by `--ff-only` and left as it is.
 */
export async function upgradeCheckout (runner: CommandRunner, root: string): Promise<{ ok: true } | { ok: false, message: string }> {
  const steps: Array<[string, string[], number]> = [
    ['git', ['pull', '--ff-only', '--quiet'], 120_000],
    ['npm', ['ci', '--no-audit', '--no-fund'], 10 * 60_000],
    ['npm', ['run', 'build', '--if-present'], 10 * 60_000]
  ]
  for (const [file, args, timeoutMs] of steps) {
    const r = await runner(file, args, { timeoutMs, cwd: root, env: { GIT_TERMINAL_PROMPT: '0' } })
    if (r.exitCode === 0) continue
    const said = (r.stderr + '\n' + r.stdout).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^npm warn/i.test(l))
    return { ok: false, message: `\`${file} ${args.join(' ')}\` failed${r.timedOut ? ' (timed out)' : ''}: ${said.find((l) => /ERR|error|fatal/i.test(l)) ?? said[0] ?? `exit ${r.exitCode}`}` }
  }
  return { ok: true }
}

/** What the periodic check remembers (`state/update-check.json`): the update already announced. */
export interface UpdateCheckState {
  /** `id` of the update last announced (it is not announced again). */
  announced: string | null
  checked_at: string | null
  /** The update last announced, for its Changelog and Upgrade buttons. */
  update: AvailableUpdate | null
}

const statePath = (stateDir: string): string => join(stateDir, 'update-check.json')

export async function readUpdateState (stateDir: string): Promise<UpdateCheckState> {
  try {
    const raw = JSON.parse(await readFile(statePath(stateDir), 'utf8')) as Partial<UpdateCheckState>
    const u = raw.update as Partial<AvailableUpdate> | null | undefined
    const update = u !== null && u !== undefined && typeof u.latest === 'string' && typeof u.current === 'string' && typeof u.id === 'string' && (u.kind === 'git' || u.kind === 'npm')
      ? { kind: u.kind, current: u.current, latest: u.latest, id: u.id, commits: typeof u.commits === 'number' ? u.commits : 0, changelog: Array.isArray(u.changelog) ? u.changelog.filter((l): l is string => typeof l === 'string') : [] }
      : null
    return { announced: typeof raw.announced === 'string' ? raw.announced : null, checked_at: typeof raw.checked_at === 'string' ? raw.checked_at : null, update }
  } catch {
    return { announced: null, checked_at: null, update: null }
  }
}

export async function writeUpdateState (stateDir: string, state: UpdateCheckState): Promise<void> {
  await writeJsonAtomic(statePath(stateDir), state)
}

/**
 * The Docker sandbox (issue 18, docs/sandbox.md, ADR 0021): with `docker.enabled`, every CLI run
 * executes inside one long-lived container of this home. Before each run `prepare()` makes sure the
 * container is there and healthy — building the image from the shipped Dockerfile when it is missing
 * (`docker.auto_build`), creating the container (or reusing it), starting it, recreating it when it
 * is dead — and says where the run goes. When Docker cannot be used it says `host` with the reason:
 * the run goes on on the host, and the reason is logged once and shown by /status and doctor.
 * Everything goes through the `docker` CLI.
 */
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { Logger } from '../logger-types.ts'
import { RUNS_DIR, WRAPPER, runFileName, type InsideRun } from './inside.ts'

/** What a finished `docker` command gave back (src/ops/runner.ts's CommandRunner fits). */
export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The program is not installed. */
  notFound: boolean
}
export type CommandRunner = (file: string, args: readonly string[], opts?: { timeoutMs?: number }) => Promise<CommandResult>

export interface DockerSettings {
  enabled: boolean
  image_name: string
  container_name: string
  auto_build: boolean
}

/** Where the next run executes. */
export type Placement =
  | { where: 'docker', container: string }
  | { where: 'host', reason: string | null }

export interface SandboxState {
  enabled: boolean
  /** `docker` when the last check found the container usable; `host` otherwise. */
  where: 'docker' | 'host' | 'unknown'
  /** Why runs go to the host although the sandbox is enabled. */
  reason: string | null
  image: string
  container: string
}

export interface WrappedRun {
  argv: string[]
  /** The run's working directory on the host (the docker client's; the container's is in argv). */
  hostCwd: string
  inside: InsideRun
}

export interface SandboxOptions {
  docker: () => DockerSettings
  /** The ductor home (mounted at /ductor). */
  home: string
  /** The user's home directory: its `.claude` and `.codex` are mounted. */
  userHome: string
  run: CommandRunner
  logger?: Logger
  /** The docker executable; default `docker` (looked up on PATH). */
  dockerBinary?: string
  uid?: number | null
  gid?: number | null
  /** This package (mounted read-only at /opt/ductor so the agent's `ductor` command works inside). */
  packageRoot?: string
  /** Base image for the build (`--build-arg BASE=…`), e.g. one imported with `docker import` on an offline machine. */
  baseImage?: string
  /** Called when runs move between the container and the host (the workspace rules say which). */
  onPlacement?: (where: 'docker' | 'host') => Promise<void> | void
}

export interface Sandbox {
  /** Makes the container ready when the sandbox is enabled and says where the next run executes. Never rejects. */
  prepare: () => Promise<Placement>
  /** The last known state (for /status, GET /api/status). */
  state: () => SandboxState
  /** The `docker exec` argv of a run inside the container, its paths translated (`home` → /ductor). */
  wrap: (argv: readonly string[], run: { runId: string, cwd: string, env: Readonly<Record<string, string>> }) => WrappedRun
  /** A host path as the container sees it (unchanged when it is not under a mount). */
  containerPath: (hostPath: string) => string
  /**
   * Removes the container (and with `image`, the image) — not a container of the same name made for
   * another home. Returns what was removed; rejects when Docker does not answer.
   */
  remove: (opts?: { image?: boolean }) => Promise<string[]>
}

const CONTAINER_HOME = '/ductor'
const CONTAINER_USER_HOME = '/home/ductor'
const CONTAINER_PACKAGE = '/opt/ductor'
/** PATH inside the container: the agent's `ductor` command first, then the image's usual folders. */
const CONTAINER_PATH = `${CONTAINER_PACKAGE}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`
/** The label that ties a container to the home it mounts: a container of another home is recreated. */
const HOME_LABEL = 'ductor.home'
/** The label of an image ductor built: only such an image is removed by `ductor uninstall`. */
const BUILT_LABEL = 'ductor.sandbox'
/**
 * Variables of the run's environment that are passed into the container (by name only: `-e NAME`,
 * so their values, the admin token among them, never appear in a process list).
 */
const FORWARD_PREFIXES = ['DUCTOR_', 'ANTHROPIC_', 'CLAUDE_', 'OPENAI_', 'CODEX_']
const FORWARD_NAMES = new Set(['IS_SANDBOX', 'LANG', 'LC_ALL', 'TZ', 'NO_COLOR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'])
/** Set inside the container to these values (paths as the container sees them). */
const INSIDE_VALUES: Record<string, string> = {
  DUCTOR_HOME: CONTAINER_HOME,
  DUCTOR_NODE: 'node',
  DUCTOR_SANDBOX: 'docker',
  HOME: CONTAINER_USER_HOME,
  PATH: CONTAINER_PATH
}
const QUICK_MS = 30_000
const START_MS = 60_000
const BUILD_MS = 30 * 60_000

/** The /status line of the sandbox; null when it is off. */
export function describeSandbox (state: SandboxState): string | null {
  if (!state.enabled) return null
  if (state.where === 'docker') return `Sandbox: Docker container \`${state.container}\` (image \`${state.image}\`).`
  if (state.where === 'unknown') return `Sandbox: Docker (container \`${state.container}\`), not checked yet.`
  return `⚠️ Sandbox: Docker is not usable (${state.reason ?? 'unknown reason'}). Runs go on on the host, without the sandbox.`
}

/** The package root (holds `sandbox/Dockerfile`, `bin/`), from src/ or dist/src/. */
export function packageRoot (): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  return here.includes('/dist/src/') ? fileURLToPath(new URL('../../../', import.meta.url)) : fileURLToPath(new URL('../../', import.meta.url))
}

/** The first line of a docker error, without the CLI's prefix noise. */
function firstLine (result: CommandResult): string {
  const text = (result.stderr.trim() || result.stdout.trim()).split('\n').find((l) => l.trim() !== '') ?? `exit code ${result.exitCode}`
  return text.replace(/^Error response from daemon:\s*/, '').slice(0, 300)
}

interface ContainerFacts { running: boolean, image: string, home: string | null }

export function createDockerSandbox (opts: SandboxOptions): Sandbox {
  const docker = opts.dockerBinary ?? 'docker'
  const root = opts.packageRoot ?? packageRoot()
  const mounts: Array<[string, string]> = [
    [opts.home, CONTAINER_HOME],
    [join(opts.userHome, '.claude'), `${CONTAINER_USER_HOME}/.claude`],
    [join(opts.userHome, '.codex'), `${CONTAINER_USER_HOME}/.codex`]
  ]
  let state: SandboxState = { enabled: opts.docker().enabled, where: 'unknown', reason: null, image: opts.docker().image_name, container: opts.docker().container_name }
  let preparing: Promise<Placement> | undefined
  let warnedReason: string | null = null
  let lastWhere: 'docker' | 'host' | null = null

  const dockerCmd = async (args: string[], timeoutMs = QUICK_MS): Promise<CommandResult> => await opts.run(docker, args, { timeoutMs })

  /** The container's facts, null when there is none, or why Docker cannot tell. */
  async function inspectContainer (name: string): Promise<ContainerFacts | null | string> {
    const result = await dockerCmd(['container', 'inspect', name])
    if (result.notFound) return `the docker command is not installed (${docker})`
    if (result.exitCode !== 0) return /no such (container|object)/i.test(result.stderr) ? null : `Docker does not answer: ${firstLine(result)}`
    try {
      const [info] = JSON.parse(result.stdout) as Array<{ State?: { Running?: boolean }, Config?: { Image?: string, Labels?: Record<string, string> | null } }>
      return { running: info?.State?.Running === true, image: info?.Config?.Image ?? '', home: info?.Config?.Labels?.[HOME_LABEL] ?? null }
    } catch {
      return `docker container inspect ${name} printed something that is not JSON`
    }
  }

  async function ensureImage (settings: DockerSettings): Promise<string | null> {
    const image = await dockerCmd(['image', 'inspect', settings.image_name])
    if (image.exitCode === 0) return null
    if (!/no such (image|object)/i.test(image.stderr)) return `docker image inspect failed: ${firstLine(image)}`
    if (!settings.auto_build) return `the image ${settings.image_name} does not exist and docker.auto_build is off (build it: docker build -t ${settings.image_name} ${join(root, 'sandbox')})`
    opts.logger?.info({ image: settings.image_name }, 'building the sandbox image (first use; this takes a few minutes)')
    const args = ['build', '-t', settings.image_name, '--label', `${BUILT_LABEL}=true`, '-f', join(root, 'sandbox', 'Dockerfile')]
    if (opts.baseImage !== undefined && opts.baseImage !== '') args.push('--build-arg', `BASE=${opts.baseImage}`)
    args.push(join(root, 'sandbox'))
    const built = await dockerCmd(args, BUILD_MS)
    if (built.exitCode !== 0) return `building the image ${settings.image_name} failed: ${built.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400) || `exit code ${built.exitCode}`}`
    opts.logger?.info({ image: settings.image_name }, 'sandbox image built')
    return null
  }

  async function createContainer (settings: DockerSettings): Promise<string | null> {
    for (const [host] of mounts) {
      if (host.includes(':')) return `cannot mount ${host}: the path contains a ":"`
      // Created by us, not by the daemon (which would make them root's).
      await mkdir(host, { recursive: true }).catch(() => {})
    }
    await mkdir(join(opts.home, 'workspace'), { recursive: true }).catch(() => {})
    const args = ['create', '--name', settings.container_name, '--label', `${HOME_LABEL}=${opts.home}`, '--init', '--network', 'host']
    if (opts.uid != null) args.push('--user', `${opts.uid}:${opts.gid ?? opts.uid}`)
    args.push('-e', `HOME=${CONTAINER_USER_HOME}`, '-w', `${CONTAINER_HOME}/workspace`)
    for (const [host, inside] of mounts) args.push('-v', `${host}:${inside}`)
    if (!root.includes(':')) args.push('-v', `${root.replace(/\/$/, '')}:${CONTAINER_PACKAGE}:ro`)
    args.push(settings.image_name, 'sleep', 'infinity')
    const created = await dockerCmd(args, START_MS)
    return created.exitCode === 0 ? null : `docker create failed: ${firstLine(created)}`
  }

  async function startAndCheck (name: string): Promise<string | null> {
    const started = await dockerCmd(['start', name], START_MS)
    if (started.exitCode !== 0) return `docker start failed: ${firstLine(started)}`
    const health = await dockerCmd(['exec', name, 'sh', '-c', `mkdir -p ${RUNS_DIR} && command -v setsid >/dev/null`], START_MS)
    return health.exitCode === 0 ? null : `the container does not answer (docker exec ${name} sh: ${firstLine(health)}); the image needs sh and setsid`
  }

  /** The container, ready; or why it cannot be. */
  async function ensure (settings: DockerSettings): Promise<string | null> {
    const name = settings.container_name
    // One docker call per run when all is well.
    let facts = await inspectContainer(name)
    if (typeof facts === 'string') return facts
    if (facts !== null && facts.running && facts.image === settings.image_name && facts.home === opts.home) return null
    const imageProblem = await ensureImage(settings)
    if (imageProblem !== null) return imageProblem
    if (facts !== null && (facts.image !== settings.image_name || facts.home !== opts.home)) {
      opts.logger?.warn({ container: name, image: facts.image, home: facts.home }, 'the sandbox container was made for another image or home; recreating it')
      await dockerCmd(['rm', '-f', name])
      facts = null
    }
    if (facts !== null) {
      // There but stopped (a reboot, `docker stop`, a crash): start it; a container that cannot start is recreated.
      const problem = await startAndCheck(name)
      if (problem === null) return null
      opts.logger?.warn({ container: name, problem }, 'the sandbox container is dead; recreating it')
      await dockerCmd(['rm', '-f', name])
    } else {
      opts.logger?.info({ container: name, image: settings.image_name }, 'creating the sandbox container')
    }
    const createProblem = await createContainer(settings)
    if (createProblem !== null) return createProblem
    return await startAndCheck(name)
  }

  async function settle (settings: DockerSettings, problem: string | null): Promise<Placement> {
    const where = problem === null ? 'docker' : 'host'
    state = { enabled: true, where, reason: problem, image: settings.image_name, container: settings.container_name }
    if (problem !== null && problem !== warnedReason) {
      warnedReason = problem
      opts.logger?.warn({ reason: problem }, `Docker sandbox not usable: ${problem}. CLI runs go on on the host, without the sandbox.`)
    } else if (problem === null && warnedReason !== null) {
      warnedReason = null
      opts.logger?.info({ container: settings.container_name }, 'Docker sandbox usable again: CLI runs go into the container')
    }
    if (lastWhere !== where) {
      lastWhere = where
      try {
        await opts.onPlacement?.(where)
      } catch (err) {
        opts.logger?.warn({ err }, 'could not tell the workspace rules where the CLIs run')
      }
    }
    return problem === null ? { where: 'docker', container: settings.container_name } : { where: 'host', reason: problem }
  }

  function containerPath (hostPath: string): string {
    for (const [host, inside] of mounts) {
      if (hostPath === host) return inside
      if (hostPath.startsWith(host + '/')) return inside + hostPath.slice(host.length)
    }
    return hostPath
  }

  return {
    async prepare () {
      const settings = opts.docker()
      if (!settings.enabled) {
        state = { enabled: false, where: 'host', reason: null, image: settings.image_name, container: settings.container_name }
        return { where: 'host', reason: null }
      }
      // Concurrent runs share one check (and one build).
      preparing ??= ensure(settings)
        .catch((err: unknown) => `checking Docker failed: ${err instanceof Error ? err.message : String(err)}`)
        .then((problem) => settle(settings, problem))
        .finally(() => { preparing = undefined })
      return await preparing
    },
    state () {
      const settings = opts.docker()
      return settings.enabled ? { ...state } : { enabled: false, where: 'host', reason: null, image: settings.image_name, container: settings.container_name }
    },
    containerPath,
    wrap (argv, run) {
      const settings = opts.docker()
      const inside: InsideRun = { docker, container: settings.container_name, run: runFileName(run.runId) }
      const wrapped = [docker, 'exec']
      for (const name of Object.keys(run.env).sort()) {
        if (name in INSIDE_VALUES) continue
        if (FORWARD_NAMES.has(name) || FORWARD_PREFIXES.some((p) => name.startsWith(p))) wrapped.push('-e', name)
      }
      for (const [name, value] of Object.entries(INSIDE_VALUES)) wrapped.push('-e', `${name}=${value}`)
      wrapped.push('-w', containerPath(run.cwd), settings.container_name, 'sh', '-c', WRAPPER, 'ductor-run', inside.run)
      for (const arg of argv) wrapped.push(translate(arg))
      return { argv: wrapped, hostCwd: run.cwd, inside }
    },
    async remove (removeOpts = {}) {
      const settings = opts.docker()
      const removed: string[] = []
      const facts = await inspectContainer(settings.container_name)
      if (typeof facts === 'string') throw new Error(`could not remove the sandbox container ${settings.container_name}: ${facts}`)
      if (facts !== null && facts.home !== null && facts.home !== opts.home) {
        // Same name, another home's container: not ours to remove (nor its image).
        return removed
      }
      if (facts !== null) {
        const rm = await dockerCmd(['rm', '-f', settings.container_name])
        if (rm.exitCode === 0) removed.push(`container ${settings.container_name}`)
        else if (!/no such container/i.test(rm.stderr)) throw new Error(`could not remove the container ${settings.container_name}: ${firstLine(rm)}`)
      }
      if (removeOpts.image === true && await builtByUs(settings.image_name)) {
        const rmi = await dockerCmd(['image', 'rm', settings.image_name])
        if (rmi.exitCode === 0) removed.push(`image ${settings.image_name}`)
        else if (!/no such image/i.test(rmi.stderr)) throw new Error(`could not remove the image ${settings.image_name}: ${firstLine(rmi)}`)
      }
      return removed
    }
  }

  async function builtByUs (image: string): Promise<boolean> {
    const result = await dockerCmd(['image', 'inspect', image])
    if (result.exitCode !== 0) return false
    try {
      const [info] = JSON.parse(result.stdout) as Array<{ Config?: { Labels?: Record<string, string> | null } }>
      return info?.Config?.Labels?.[BUILT_LABEL] === 'true'
    } catch {
      return false
    }
  }

  /** Host paths in an argument (the prompt, file paths, settings JSON) as the container sees them. */
  function translate (arg: string): string {
    let out = arg
    for (const [host, inside] of mounts) {
      if (out === host) return inside
      out = out.split(host + '/').join(inside + '/')
    }
    return out
  }
}

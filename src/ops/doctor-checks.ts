import { access, constants, readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { adminListenAddress, describeUnknownKey, listenAddress, type Config } from '../config.ts'
import { describeJsonProblem, jsonProblem } from '../json-location.ts'
import { readPidFile } from '../home/pid-lock.ts'
import { readServiceInfo } from '../home/service-info.ts'
import type { ConfigReading } from './config-read.ts'
import { systemdUnitPath } from './systemd.ts'
import { launchdPlistPath } from './launchd.ts'
import { exists } from './service-types.ts'
import { ok, warn, fail, type CheckResult } from './doctor-types.ts'

const MINIMUM_NODE = '20.19.0'

/** Node.js is recent enough (package.json engines). */
export function checkNode (version: string, minimum = MINIMUM_NODE): CheckResult {
  const [a, b] = [version, minimum].map((v) => v.replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0)) as [number[], number[]]
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d > 0) break
    if (d < 0) return fail('Node.js', `v${version.replace(/^v/, '')} is too old; ductor needs ${minimum} or newer`, 'install the current Node.js LTS (https://nodejs.org or your package manager), then reinstall ductor')
  }
  return ok('Node.js', `v${version.replace(/^v/, '')}`)
}

/** config.json (with the environment) is valid. */
export function checkConfig (reading: ConfigReading): CheckResult {
  if (reading.status === 'invalid') return fail('config', reading.message, `correct ${reading.path}, then run ductor doctor again`)
  if (reading.missing) return warn('config', `${reading.path} does not exist yet; the defaults apply and it is written on first start`, 'ductor init')
  if (reading.unknownKeys.length > 0) {
    return warn('config', reading.unknownKeys.map((u) => describeUnknownKey(u, reading.path)).join('; '),
      `rename or remove ${reading.unknownKeys.length === 1 ? 'that key' : 'those keys'} in ${reading.path}`)
  }
  return ok('config', `${reading.path} is valid`)
}

/** `cron_jobs.json` and `webhooks.json` parse: one that does not stops the service from starting. */
export async function checkUserFiles (paths: { cronJobs: string, webhooks: string }): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  for (const [name, path] of [['cron jobs', paths.cronJobs], ['webhooks', paths.webhooks]] as const) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') results.push(fail(name, `cannot read ${path}: ${code ?? (err as Error).message}`))
      continue
    }
    const problem = jsonProblem(text)
    if (problem !== null) results.push(fail(name, `${describeJsonProblem(path, problem)}; ductor will not start until it is fixed`, `correct ${path} (the file is never replaced), then run ductor doctor again`))
    else results.push(ok(name, `${path} is valid JSON`))
  }
  return results
}

/** The home is a directory this user owns and can write; secrets are not readable by others. */
export async function checkHome (home: string, uid: number | null): Promise<CheckResult> {
  const st = await stat(home).catch((err: NodeJS.ErrnoException) => err)
  if (st instanceof Error) {
    if (st.code === 'ENOENT') return warn('home', `${home} does not exist yet; it is created on first start`, 'ductor init')
    return fail('home', `cannot read ${home}: ${st.code ?? st.message}`)
  }
  if (!st.isDirectory()) return fail('home', `${home} is not a directory`, 'point DUCTOR_HOME at a directory')
  if (uid !== null && uid !== 0 && st.uid !== uid) {
    return fail('home', `${home} belongs to uid ${st.uid}, not to you (uid ${uid})`, `sudo chown -R ${uid} ${home}`)
  }
  if (!await access(home, constants.W_OK).then(() => true, () => false)) return fail('home', `${home} is not writable`, `chmod u+rwx ${home}`)
  const mode = (st.mode & 0o777).toString(8)
  if ((st.mode & 0o022) !== 0) return warn('home', `${home} is writable by other users (mode ${mode})`, `chmod 700 ${home}`)
  const configFile = join(home, 'config', 'config.json')
  const cst = await stat(configFile).catch(() => null)
  if (cst !== null && (cst.mode & 0o077) !== 0) {
    return warn('home', `${configFile} holds the bot and admin tokens but other users can read it (mode ${(cst.mode & 0o777).toString(8)})`, `chmod 600 ${configFile}`)
  }
  return ok('home', `${home} (mode ${mode})`)
}

/** When ductor runs: it answers /health. When not: the configured address is free to listen on. */
export async function checkPort (config: Config, stateDir: string, pidFile: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<CheckResult> {
  const info = await readServiceInfo(stateDir)
  if (info !== null) {
    const healthy = await fetchImpl(`${info.url}/health`, { signal: AbortSignal.timeout(timeoutMs) }).then((r) => r.ok, () => false)
    return healthy
      ? ok('port', `ductor is running (pid ${info.pid}) at ${info.url} and /health answers`)
      : fail('port', `ductor is running (pid ${info.pid}) but ${info.url}/health does not answer`, 'ductor service logs (or the terminal running ductor serve), then restart it')
  }
  const holder = await readPidFile(pidFile)
  if (holder?.alive === true) return warn('port', `ductor (pid ${holder.pid}) holds the lock but has not published its address yet; it may be starting`, 'run ductor doctor again in a few seconds')
  const { host, port } = listenAddress(config)
  if (port === 0) return ok('port', `${host}, port 0: any free port is used`)
  const error = await tryListen(host, port)
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  if (error === null) return ok('port', `${where} is free`)
  const fix = 'set server.port (or DUCTOR_PORT) to a free port, or stop the program using it'
  if (error === 'EADDRINUSE') return fail('port', `${where} is already in use by another program`, fix)
  if (error === 'EADDRNOTAVAIL' || error === 'ENOTFOUND') return fail('port', `${host} is not an address of this machine`, 'set server.host (or DUCTOR_HOST) to 127.0.0.1')
  if (error === 'EACCES') return fail('port', `not allowed to listen on ${where}`, 'use a port above 1023')
  return fail('port', `cannot listen on ${where}: ${error}`, fix)
}

function tryListen (host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)))
  })
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

/**
 * What the listeners expose (ADR 14): the admin API's own listener must stay off the network and off
 * the reverse proxy, and the proxy must be believed by its address, never by `trust_proxy: true`.
 */
export function checkExposure (config: Config, inContainer: boolean): CheckResult {
  const { host } = listenAddress(config)
  const admin = adminListenAddress(config)
  if (config.admin.enabled && config.admin.allow_proxied) {
    return warn('exposure', 'admin.allow_proxied is on: the admin API accepts requests that came through a reverse proxy', 'set admin.allow_proxied to false and keep /api/ off the proxy (docs/operations.md)')
  }
  if (config.admin.enabled && !LOOPBACK.test(admin.host) && !inContainer) {
    return warn('exposure', `the admin API listens on ${admin.host}:${admin.port}: the admin API (/api) is reachable from the network, guarded only by its token`,
      'set admin.host to 127.0.0.1 and use an SSH tunnel to reach it from elsewhere (docs/operations.md)')
  }
  if (config.server.trust_proxy === true) {
    return warn('exposure', 'server.trust_proxy is true, which is read as "loopback": only a proxy on this machine is believed about the client address',
      'set server.trust_proxy to your proxy\'s address(es), e.g. ["127.0.0.1"] for nginx or Caddy on this machine, or the number of proxies in front (docs/operations.md)')
  }
  if (config.server.public_url !== '' && config.server.trust_proxy === false) {
    return warn('exposure', 'server.public_url is set but server.trust_proxy is off: behind the proxy every request seems to come from the proxy, so webhook rate limits are shared by all senders',
      'set server.trust_proxy to the proxy\'s address, e.g. ["127.0.0.1"] for nginx or Caddy on this machine')
  }
  if (!LOOPBACK.test(host) && !inContainer) {
    return warn('exposure', `listens on ${host}: Telegram and webhooks are reachable without the reverse proxy (the admin API is not: it listens on ${admin.host})`,
      'set server.host to 127.0.0.1 and put a reverse proxy in front for Telegram and webhooks (docs/operations.md)')
  }
  const where = config.admin.enabled ? `; the admin API on ${admin.host}:${admin.port}` : ''
  return ok('exposure', inContainer && !LOOPBACK.test(host)
    ? `listens on ${host} inside a container${where}; publish them on the host as 127.0.0.1:<port> only`
    : `listens on ${host} only${where}`)
}

/** Whether ductor is installed as a service; on Linux, whether linger keeps it running after logout. */
export async function checkService (opts: { platform: NodeJS.Platform, env: NodeJS.ProcessEnv, userHome: string, user: string, inContainer: boolean, lingerDir?: string }): Promise<CheckResult | null> {
  if (opts.inContainer || (opts.platform !== 'linux' && opts.platform !== 'darwin')) return null
  const path = opts.platform === 'linux' ? systemdUnitPath(opts.env, opts.userHome) : launchdPlistPath(opts.userHome)
  if (!await exists(path)) return ok('service', 'not installed as a service; `ductor service install` keeps it running and starts it at boot')
  if (opts.platform === 'linux' && !await exists(join(opts.lingerDir ?? '/var/lib/systemd/linger', opts.user))) {
    return warn('service', `installed (${path}), but linger is off: it stops when ${opts.user} logs out`, `sudo loginctl enable-linger ${opts.user}`)
  }
  return ok('service', `installed (${path})`)
}

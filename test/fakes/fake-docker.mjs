#!/usr/bin/env node
// A fake `docker` CLI for the sandbox tests: the subcommands ductor uses (build, image inspect/rm,
// create, start, container inspect, exec, kill, rm, version), with the real CLI's exit codes and
// error sentences, its state in a folder, and every invocation's argv appended to <state>/argv.jsonl.
//
// `exec` runs the command on the host, as a container would run it: in its own process group (so a
// signal to the host's `docker exec` client does not reach it, as with the real daemon), with the
// `-e` environment only (PATH: the container's, mapped, then FAKE_DOCKER_IMAGE_BIN, then the host's
// so sh and node are found), and with the container's paths in its argv and working directory
// mapped to the host folders mounted there (-v), `/tmp/.ductor-runs` to a folder of the container.
// Removing or killing the container kills what runs in it.
//
// FAKE_DOCKER_STATE (required): the state folder. Its `control.json` may say
// {"down": true} (the daemon does not answer), {"buildFails": true}, {"startFails": true}.
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const STATE = process.env.FAKE_DOCKER_STATE
if (STATE === undefined || STATE === '') {
  process.stderr.write('fake docker: FAKE_DOCKER_STATE is not set\n')
  process.exit(2)
}
mkdirSync(STATE, { recursive: true })
const args = process.argv.slice(2)
appendFileSync(join(STATE, 'argv.jsonl'), JSON.stringify({ argv: args, pid: process.pid, at: Date.now() }) + '\n')

const control = readJson(join(STATE, 'control.json'), {})
const statePath = join(STATE, 'state.json')
const state = readJson(statePath, { images: {}, containers: {} })

function readJson (path, fallback) {
  try { return JSON.parse(readFileSync(path, 'utf8')) } catch { return fallback }
}
function save () { writeFileSync(statePath, JSON.stringify(state, null, 2)) }
function die (message, code = 1) {
  process.stderr.write(message + '\n')
  process.exit(code)
}
function alive (pid) {
  try { process.kill(pid, 0); return true } catch { return false }
}
function killAll (container) {
  for (const pid of container.pids ?? []) {
    try { process.kill(-pid, 'SIGKILL') } catch {}
  }
  container.pids = []
}

if (args[0] === 'version' || args[0] === '--version') {
  if (control.down) die('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?')
  process.stdout.write('27.0.0-fake\n')
  process.exit(0)
}
if (control.down) die('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?')

const [cmd, ...rest] = args[0] === 'container' || args[0] === 'image'
  ? [`${args[0]} ${args[1]}`, ...args.slice(2)]
  : args

switch (cmd) {
  case 'image inspect': {
    const image = state.images[rest[0]]
    if (image === undefined) die(`Error response from daemon: No such image: ${rest[0]}:latest`)
    process.stdout.write(JSON.stringify([{ Id: image.id, RepoTags: [`${rest[0]}:latest`], Config: { Labels: image.labels ?? null } }]) + '\n')
    break
  }
  case 'build': {
    const tag = valueAfter(rest, '-t')
    const file = valueAfter(rest, '-f')
    if (tag === undefined) die('fake docker: build needs -t')
    if (file !== undefined && !existsSync(file)) die(`ERROR: failed to solve: failed to read dockerfile: open ${file}: no such file or directory`)
    if (control.buildFails) die('ERROR: failed to solve: node:20-bookworm-slim: failed to resolve source metadata: dial tcp: lookup registry-1.docker.io: no such host')
    const labels = {}
    rest.forEach((a, i) => { if (a === '--label') { const [k, ...v] = rest[i + 1].split('='); labels[k] = v.join('=') } })
    state.images[tag] = { id: `sha256:${Date.now().toString(16)}`, dockerfile: file ?? null, labels }
    save()
    process.stdout.write(`Successfully tagged ${tag}:latest\n`)
    break
  }
  case 'image rm':
  case 'rmi': {
    if (state.images[rest[0]] === undefined) die(`Error response from daemon: No such image: ${rest[0]}:latest`)
    delete state.images[rest[0]]
    save()
    process.stdout.write(`Untagged: ${rest[0]}:latest\n`)
    break
  }
  case 'create': create(rest); break
  case 'start': {
    const c = state.containers[rest[0]]
    if (c === undefined) die(`Error response from daemon: No such container: ${rest[0]}\nError: failed to start containers: ${rest[0]}`)
    if (control.startFails) die(`Error response from daemon: failed to create task for container: OCI runtime create failed\nError: failed to start containers: ${rest[0]}`)
    c.running = true
    save()
    process.stdout.write(rest[0] + '\n')
    break
  }
  case 'container inspect':
  case 'inspect': {
    const c = state.containers[rest[0]]
    if (c === undefined) {
      process.stdout.write('[]\n')
      die(`Error response from daemon: No such container: ${rest[0]}`)
    }
    process.stdout.write(JSON.stringify([{
      Name: `/${rest[0]}`,
      State: { Status: c.running ? 'running' : 'exited', Running: c.running },
      Config: { Image: c.image, Labels: c.labels, User: c.user, Env: c.env },
      HostConfig: { Binds: c.mounts.map((m) => `${m.host}:${m.inside}${m.ro ? ':ro' : ''}`) }
    }], null, 2) + '\n')
    break
  }
  case 'kill':
  case 'stop': {
    const c = state.containers[rest[0]]
    if (c === undefined) die(`Error response from daemon: No such container: ${rest[0]}`)
    killAll(c)
    c.running = false
    save()
    process.stdout.write(rest[0] + '\n')
    break
  }
  case 'rm': {
    const names = rest.filter((a) => !a.startsWith('-'))
    for (const name of names) {
      const c = state.containers[name]
      if (c === undefined) die(`Error response from daemon: No such container: ${name}`)
      if (c.running && !rest.includes('-f') && !rest.includes('--force')) die(`Error response from daemon: cannot remove container "/${name}": container is running: stop the container before removing or force remove`)
      killAll(c)
      delete state.containers[name]
    }
    save()
    process.stdout.write(names.join('\n') + '\n')
    break
  }
  case 'exec': exec(rest); break
  default:
    die(`fake docker: unsupported command: ${args.join(' ')}`, 2)
}

function valueAfter (list, flag) {
  const i = list.indexOf(flag)
  return i === -1 ? undefined : list[i + 1]
}

function create (list) {
  const c = { image: '', labels: {}, env: [], mounts: [], user: '', workdir: '/', running: false, pids: [], flags: [] }
  let name
  let i = 0
  for (; i < list.length; i++) {
    const a = list[i]
    if (!a.startsWith('-')) break
    const v = list[i + 1]
    switch (a) {
      case '--name': name = v; i++; break
      case '--label': { const [k, ...x] = v.split('='); c.labels[k] = x.join('='); i++; break }
      case '-e': case '--env': c.env.push(v); i++; break
      case '-v': case '--volume': {
        const [host, inside, mode] = v.split(':')
        if (!existsSync(host)) mkdirSync(host, { recursive: true }) // as the daemon does (owned by root there)
        c.mounts.push({ host, inside, ro: mode === 'ro' }); i++; break
      }
      case '-w': case '--workdir': c.workdir = v; i++; break
      case '--user': case '-u': c.user = v; i++; break
      case '--network': c.flags.push(`${a}=${v}`); i++; break
      case '--init': c.flags.push(a); break
      default: die(`unknown flag: ${a}\nSee 'docker create --help'.`, 125)
    }
  }
  c.image = list[i]
  c.cmd = list.slice(i + 1)
  if (c.image === undefined) die('"docker create" requires at least 1 argument.', 125)
  if (state.images[c.image] === undefined) die(`Unable to find image '${c.image}:latest' locally\nError response from daemon: pull access denied for ${c.image}, repository does not exist or may require 'docker login'`, 125)
  if (name !== undefined && state.containers[name] !== undefined) die(`Error response from daemon: Conflict. The container name "/${name}" is already in use by container "0123abcd". You have to remove (or rename) that container to be able to reuse that name.`, 125)
  c.runs = join(STATE, 'containers', name ?? 'anon', 'tmp-ductor-runs')
  mkdirSync(c.runs, { recursive: true })
  state.containers[name] = c
  save()
  process.stdout.write('0123abcd' + Date.now().toString(16) + '\n')
}

function exec (list) {
  const env = {}
  let workdir
  let i = 0
  for (; i < list.length; i++) {
    const a = list[i]
    if (!a.startsWith('-')) break
    if (a === '-e' || a === '--env') {
      const v = list[++i]
      const eq = v.indexOf('=')
      if (eq === -1) { if (process.env[v] !== undefined) env[v] = process.env[v] } else env[v.slice(0, eq)] = v.slice(eq + 1)
    } else if (a === '-w' || a === '--workdir') workdir = list[++i]
    else if (a === '-i' || a === '-t' || a === '-d') continue
    else die(`unknown flag: ${a}\nSee 'docker exec --help'.`, 125)
  }
  const name = list[i]
  const c = state.containers[name]
  if (c === undefined) die(`Error response from daemon: No such container: ${name}`)
  if (!c.running) die(`Error response from daemon: container ${name} is not running`)
  const command = list.slice(i + 1)
  if (command.length === 0) die('"docker exec" requires at least 2 arguments.', 125)
  const maps = [...c.mounts.map((m) => [m.inside, m.host]), ['/tmp/.ductor-runs', c.runs]].sort((a, b) => b[0].length - a[0].length)
  const mapPath = (text) => {
    let out = text
    for (const [inside, host] of maps) {
      const escaped = inside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      out = out.replace(new RegExp(`(^|[^A-Za-z0-9_.-])${escaped}(?=$|[^A-Za-z0-9_-])`, 'g'), (_, pre) => pre + host)
    }
    return out
  }
  const containerEnv = Object.fromEntries(c.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
  const fullEnv = { ...containerEnv, ...env, FAKE_DOCKER_CONTAINER: name }
  const containerPath = fullEnv.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  fullEnv.PATH = [mapPath(containerPath), process.env.FAKE_DOCKER_IMAGE_BIN, process.env.PATH].filter((p) => p !== undefined && p !== '').join(':')
  const cwd = mapPath(workdir ?? c.workdir)
  if (!existsSync(cwd)) die(`OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("${workdir ?? c.workdir}") set in config.json failed: no such file or directory: unknown`, 126)
  const child = spawn(mapPath(command[0]), command.slice(1).map(mapPath), { cwd, env: fullEnv, stdio: ['ignore', 'inherit', 'inherit'], detached: true })
  child.on('error', (err) => die(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${command[0]}": ${err.code === 'ENOENT' ? 'executable file not found in $PATH' : err.message}: unknown`, 127))
  if (child.pid !== undefined) {
    // Remembered so that `rm -f` / `kill` end it, as removing a real container does.
    const fresh = readJson(statePath, state)
    const target = fresh.containers[name]
    if (target !== undefined) {
      target.pids = [...(target.pids ?? []).filter(alive), child.pid]
      writeFileSync(statePath, JSON.stringify(fresh, null, 2))
    }
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGKILL' ? 9 : 15))))
}

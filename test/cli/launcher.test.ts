// The `ductor` command (bin/ductor, ADR 46): a sh launcher, reached as npm installs it (through
// links, from a folder with a space). Another command execs node (nothing stays between the caller
// and it); `ductor serve` leaves a shell (~1 MB) supervising the service and no node above it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LAUNCHER, builtDist, spawnService, tempDir, type Cleanup } from '../helper.ts'
import { survivors } from '../faults/fault-helpers.ts'

/** `<tmp>/my bin/ductor` → `../lib dir/ductor` → bin/ductor: a relative link to an absolute one, as npm lays out a global install. */
async function linked (t: Cleanup): Promise<string> {
  const dir = await tempDir(t, 'ductor launcher ')
  await mkdir(join(dir, 'my bin'))
  await mkdir(join(dir, 'lib dir'))
  await symlink(LAUNCHER, join(dir, 'lib dir', 'ductor'))
  await symlink(join('..', 'lib dir', 'ductor'), join(dir, 'my bin', 'ductor'))
  return join(dir, 'my bin', 'ductor')
}

async function run (command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null, stdout: string, stderr: string, pid: number }> {
  const child = spawn(command, args, { env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return { code, stdout, stderr, pid: child.pid as number }
}

function parentOf (pid: number): { ppid: number, comm: string } {
  const stat = readFileSyncSafe(`/proc/${pid}/stat`)
  const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  return { ppid, comm }
}

function readFileSyncSafe (path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

test('another command runs node in the launcher\'s own process (exec), through npm-style links from a folder with a space, with its own exit code', async (t) => {
  await builtDist()
  const ductor = await linked(t)
  const home = await tempDir(t)
  // A preload records the pid of every node that starts: for `status` it is the launcher's pid.
  const record = join(home, 'pids')
  const preload = join(home, 'record-pid.mjs')
  await writeFile(preload, `import { appendFileSync } from 'node:fs'\nappendFileSync(${JSON.stringify(record)}, process.pid + '\\n')\n`)
  const status = await run(ductor, ['status'], { DUCTOR_HOME: home, NODE_OPTIONS: `--import=${preload}` })
  assert.equal(status.code, 3, `not running: status's own exit code\n${status.stderr}`)
  assert.match(status.stdout, /ductor is not running/)
  assert.deepEqual((await readFile(record, 'utf8')).trim().split('\n').map(Number), [status.pid], 'one node, in the process the caller started')

  const version = await run(ductor, ['--version'], {})
  assert.equal(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  // `serve --help` and a bad serve flag are asked of node (they might have been a supervised serve): node's answer and code.
  const help = await run(ductor, ['serve', '--help'], {})
  assert.equal(help.code, 0)
  assert.match(help.stdout, /--no-supervisor/)
  const bad = await run(ductor, ['serve', '--frobnicate'], { DUCTOR_HOME: home })
  assert.equal(bad.code, 1, bad.stderr)
  assert.match(bad.stderr, /unknown option '--frobnicate'/)
})

test('`ductor serve` through the links: a shell supervises the service, no node waits above it; SIGTERM to it stops both with 0', { timeout: 90_000 }, async (t) => {
  await builtDist()
  const ductor = await linked(t)
  const home = await tempDir(t)
  const served = await spawnService(t, { DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home }, { command: [ductor], args: ['serve'], supervisor: true })
  const info = await served.up()
  const launcher = served.child.pid as number
  assert.deepEqual(parentOf(info.pid), { ppid: launcher, comm: 'node' }, 'the service is the launcher\'s child')
  assert.equal(parentOf(launcher).comm, 'sh', 'the launcher is a shell')
  const children = readFileSyncSafe(`/proc/${launcher}/task/${launcher}/children`).trim().split(/\s+/).map(Number)
  assert.deepEqual(children, [info.pid], 'the node that parsed `serve` is gone')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSyncSafe(`/proc/${launcher}/status`))?.[1])
  assert.ok(rssKb < 5 * 1024, `the supervisor is a shell's size: ${rssKb} kB`)
  assert.equal(await served.stop(), 0, served.output().slice(-2000))
  assert.deepEqual(survivors(home), [])
})

test('`ductor serve --no-supervisor` through the launcher is the service itself (exec: the unit\'s and the user\'s pid are the service\'s)', { timeout: 90_000 }, async (t) => {
  await builtDist()
  const home = await tempDir(t)
  const served = await spawnService(t, { DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home }, { command: [LAUNCHER], args: ['serve', '--no-supervisor'] })
  const info = await served.up()
  assert.equal(info.pid, served.child.pid)
  assert.equal(await served.stop(), 0)
})

test('`node …/ductor.js serve` (not through bin/ductor): node waits above the same sh supervisor, passes its flags to the service and a SIGTERM on to it, and ends with 0', { timeout: 90_000 }, async (t) => {
  await builtDist()
  const home = await tempDir(t)
  const record = join(home, 'pids')
  const preload = join(home, 'record-pid.mjs')
  await writeFile(preload, `import { appendFileSync } from 'node:fs'\nappendFileSync(${JSON.stringify(record)}, process.pid + ' ' + (process.env.DUCTOR_SUPERVISED ?? '-') + '\\n')\n`)
  const served = await spawnService(t, { DUCTOR_HOME: home, DUCTOR_PORT: '0', HOME: home }, { supervisor: true, preload })
  const info = await served.up()
  const node = served.child.pid as number
  const sh = parentOf(info.pid).ppid
  assert.equal(parentOf(sh).comm, 'sh')
  assert.equal(parentOf(sh).ppid, node, 'node → sh → service')
  assert.ok((await readFile(record, 'utf8')).includes(`${info.pid} 1\n`), 'the service got node\'s --import and DUCTOR_SUPERVISED=1')
  assert.equal(await served.stop(), 0, served.output().slice(-2000))
  assert.deepEqual(survivors(home), [])
})

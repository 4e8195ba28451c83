import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile, chmod, mkdir } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ADMIN_TOKEN, build, ROOT, tempDir, testConfig, waitFor } from '../helper.ts'

/**
 * The sandbox against a real Docker daemon (needs root and dockerd, e.g. `apt-get install docker.io`,
 * which .ci/run installs; DUCTOR_REAL_DOCKER=0 opts out). The test starts its own dockerd on its own socket and data
 * folder and stops it at the end. No registry is needed: the base image is `docker import`ed from a
 * root filesystem of this machine's own sh, coreutils, setsid and node (make-rootfs.sh), with an `npm`
 * stand-in that "installs" claude and codex as the fake CLIs of the mounted package; ductor builds its
 * shipped sandbox/Dockerfile on that base (DUCTOR_SANDBOX_BASE_IMAGE). ~30 s on a quiet machine.
 * Without root or dockerd, or when dockerd cannot start, it says why and is skipped (the fake docker of
 * docker-sandbox.test.ts proves the lifecycle either way).
 */

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const NPM_STAND_IN = `#!/bin/sh
# test stand-in for npm in the imported base: "npm install -g" puts the fake CLIs of the mounted package on PATH
if [ "$1" = install ]; then
  for cli in claude codex; do
    printf '#!/bin/sh\\nexec node /opt/ductor/test/fakes/fake-%s.mjs "$@"\\n' "$cli" > "/usr/local/bin/$cli"
    chmod 755 "/usr/local/bin/$cli"
  done
fi
exit 0
`

function skip (t: TestContext, why: string): void {
  process.stdout.write(`# real Docker sandbox test skipped: ${why}\n`)
  t.skip(why)
}

function run (file: string, args: string[], env: NodeJS.ProcessEnv, input?: NodeJS.ReadableStream): Promise<{ code: number | null, out: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    if (input !== undefined && child.stdin !== null) input.pipe(child.stdin)
    child.on('error', (err) => { resolve({ code: 127, out: err.message }) })
    child.on('close', (code) => { resolve({ code, out }) })
  })
}

test('real Docker: ductor builds the shipped image, creates the container, answers from inside it, and a stop leaves nothing running in it', { timeout: 240_000 }, async (t) => {
  if (process.env['DUCTOR_REAL_DOCKER'] === '0') { skip(t, 'DUCTOR_REAL_DOCKER=0'); return }
  if (process.getuid?.() !== 0) { skip(t, 'dockerd needs root'); return }
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find(existsSync)
  if (dockerd === undefined) { skip(t, 'dockerd is not installed (apt-get install docker.io)'); return }

  // Our own daemon: its socket, data and exec roots are ours, its bridge and iptables untouched.
  const base = await mkdtemp('/var/tmp/ductor-dockerd-')
  const sock = join(base, 'docker.sock')
  const daemon = spawn(dockerd, ['--host', `unix://${sock}`, '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'), '--pidfile', join(base, 'dockerd.pid'), '--bridge', 'none', '--iptables=false', '--ip-masq=false'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let daemonLog = ''
  daemon.stdout.on('data', (d: Buffer) => { daemonLog += d.toString() })
  daemon.stderr.on('data', (d: Buffer) => { daemonLog += d.toString() })
  const daemonExited = new Promise<void>((resolve) => { daemon.once('exit', () => resolve()) })
  t.after(async () => {
    try { process.kill(daemon.pid as number, 'SIGTERM') } catch {}
    let timer: NodeJS.Timeout | undefined
    await Promise.race([daemonExited, new Promise((resolve) => { timer = setTimeout(resolve, 15_000) })])
    clearTimeout(timer) // else it kept this test's process alive 15 s after dockerd had exited
    try { process.kill(-(daemon.pid as number), 'SIGKILL') } catch {}
    // dockerd leaves its network namespace mounted in its exec root.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(base + '/'))
    for (const mount of mounts.reverse()) { try { execFileSync('umount', ['-l', mount]) } catch {} }
    await rm(base, { recursive: true, force: true }).catch(() => {})
  })
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}` }
  const up = await waitFor(async () => (await run('docker', ['version', '--format', '{{.Server.Version}}'], env)).code === 0 ? true : undefined, 40_000, 'dockerd').catch(() => false)
  if (!up) { skip(t, `dockerd did not start: ${daemonLog.trim().split('\n').slice(-3).join(' | ')}`); return }

  // The base image, from this machine's binaries.
  const rootfs = join(base, 'rootfs')
  execFileSync('sh', [join(ROOT, 'test', 'sandbox', 'make-rootfs.sh'), rootfs])
  await mkdir(join(rootfs, 'usr', 'local', 'bin'), { recursive: true })
  await writeFile(join(rootfs, 'usr', 'local', 'bin', 'npm'), NPM_STAND_IN)
  await chmod(join(rootfs, 'usr', 'local', 'bin', 'npm'), 0o755)
  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const imported = await run('docker', ['import', '-', 'ductor-test-base'], env, tar.stdout)
  assert.equal(imported.code, 0, imported.out)

  const container = `ductor-test-${process.pid}`
  const userHome = await tempDir(t, 'ductor-real-docker-user-')
  const built = await build(t, {
    config: testConfig({ docker: { enabled: true, image_name: 'ductor-sandbox-test', container_name: container, auto_build: true } }),
    env: { DOCKER_HOST: `unix://${sock}`, DUCTOR_SANDBOX_BASE_IMAGE: 'ductor-test-base', HOME: userHome }
  })
  const say = async (text: string): Promise<{ status: string, reply: string }> => {
    const res = await built.app.inject({ method: 'POST', url: '/api/chats/7/messages', headers: auth, payload: { text } })
    assert.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  const answer = await say('[[reply-env:DUCTOR_HOME]]')
  assert.equal(answer.reply, 'DUCTOR_HOME=/ductor', `${answer.status}: ${answer.reply}\n${built.logs.filter((l) => l.includes('sandbox')).join('\n')}`)
  const status = (await built.app.inject({ method: 'GET', url: '/api/status', headers: auth })).json()
  assert.equal(status.sandbox.where, 'docker')
  const inspect = JSON.parse((await run('docker', ['container', 'inspect', container], env)).out) as Array<{ Config: { Image: string, User: string, Labels: Record<string, string> }, State: { Running: boolean }, HostConfig: { Binds: string[] } }>
  assert.equal(inspect[0]?.Config.Image, 'ductor-sandbox-test')
  assert.equal(inspect[0]?.Config.User, `${process.getuid?.()}:${process.getgid?.()}`)
  assert.ok(inspect[0]?.HostConfig.Binds.includes(`${built.home}:/ductor`), JSON.stringify(inspect[0]?.HostConfig.Binds))
  assert.equal((await run('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "ductor.sandbox"}}', 'ductor-sandbox-test'], env)).out.trim(), 'true', 'built by ductor from sandbox/Dockerfile')

  // A run that ignores SIGTERM and leaves a grandchild: a stop ends both inside the container.
  const hanging = built.app.inject({ method: 'POST', url: '/api/chats/7/messages', headers: auth, payload: { text: '[[hang]] [[ignore-term]] [[grandchild]]' } })
  const top = async (): Promise<string> => (await run('docker', ['top', container, '-eo', 'pid,args'], env)).out
  await waitFor(async () => (await top()).includes('fake-claude') ? true : undefined, 30_000, 'the CLI running in the container')
  assert.equal((await built.app.inject({ method: 'POST', url: '/api/chats/7/stop', headers: auth })).statusCode, 200)
  await hanging
  await waitFor(async () => /fake-claude|node -e/.test(await top()) ? undefined : true, 20_000, `nothing of the run left in the container:\n${await top()}`)

  // ductor uninstall's removal: the container and the image it built.
  const { createDockerSandbox } = await import('../../src/sandbox/docker-sandbox.ts')
  const { createCommandRunner } = await import('../../src/ops/runner.ts')
  const sandbox = createDockerSandbox({ docker: () => ({ enabled: true, image_name: 'ductor-sandbox-test', container_name: container, auto_build: true }), home: built.home, userHome, run: createCommandRunner({ env }) })
  await built.app.close()
  assert.deepEqual(await sandbox.remove({ image: true }), [`container ${container}`, 'image ductor-sandbox-test'])
  process.stdout.write('# real Docker sandbox test ran against dockerd ' + (await run('docker', ['version', '--format', '{{.Server.Version}}'], env)).out.trim() + '\n')
})

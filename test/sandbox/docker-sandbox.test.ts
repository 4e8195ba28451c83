import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync, spawn } from 'node:child_process'
import { ADMIN_TOKEN, build, ductor, fakeClis, tempDir, testConfig, waitFor, type Built } from '../helper.ts'
import { writeJsonAtomic } from '../../src/atomic-json.ts'
import { createDockerSandbox } from '../../src/sandbox/docker-sandbox.ts'
import { createCommandRunner } from '../../src/ops/runner.ts'
import { checkSandbox } from '../../src/ops/doctor-sandbox.ts'
import { completeConfig } from '../../src/config.ts'
import { createFakeDocker, type FakeDocker } from '../fakes/fake-docker.ts'
import { WRAPPER } from '../../src/sandbox/inside.ts'
import { killRecordedGroups } from '../../src/store/cli-groups.ts'
import { readStat } from '../../src/providers/process-group.ts'

/**
 * The Docker sandbox (issue 18, docs/sandbox.md) against a fake `docker` CLI (test/fakes/fake-docker.mjs)
 * that keeps images and containers, runs `exec` in its own process group with the container's paths
 * mapped to the mounted folders, and records every argv. Messages go in through the admin API's chat
 * route, the way a script talks to ductor; the Telegram path is in test/migration/sandbox-home.test.ts.
 */

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

interface Rig extends Built { docker: FakeDocker, userHome: string }

async function rig (t: TestContext, docker: Record<string, unknown> = {}): Promise<Rig> {
  const fake = await createFakeDocker()
  t.after(fake.cleanup)
  const bin = await fakeClis(t)
  const userHome = await tempDir(t, 'ductor-sandbox-user-')
  const built = await build(t, {
    config: testConfig({ docker: { enabled: true, ...docker } }),
    // The fake CLIs are the image's, and the host's too (for the runs that fall back to the host):
    // FAKE_DOCKER_CONTAINER, set by the fake exec only, tells where a reply came from.
    env: { ...fake.env(bin.dir, `${bin.dir}:${process.env['PATH'] ?? ''}`), HOME: userHome }
  })
  return { ...built, docker: fake, userHome }
}

async function say (r: Built, text: string, chat = '7'): Promise<{ status: string, reply: string }> {
  const res = await r.app.inject({ method: 'POST', url: `/api/chats/${chat}/messages`, headers: auth, payload: { text } })
  assert.equal(res.statusCode, 200, res.body)
  return res.json()
}

const verbs = (calls: string[][]): string[] => calls.map((argv) => argv[0] === 'container' || argv[0] === 'image' ? `${argv[0]} ${argv[1] ?? ''}` : argv[0] ?? '')

test('first message: the image is built from the shipped Dockerfile, the container created with the mounts and the uid, and the reply comes from inside it', async (t) => {
  const r = await rig(t)
  const answer = await say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')
  assert.equal(answer.status, 'success')
  assert.equal(answer.reply, 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  assert.equal((await say(r, '[[reply-env:DUCTOR_HOME]]')).reply, 'DUCTOR_HOME=/ductor', 'the agent sees the home where the container mounts it')
  assert.equal((await say(r, '[[reply-env:DUCTOR_SANDBOX]]')).reply, 'DUCTOR_SANDBOX=docker')

  const calls = await r.docker.calls()
  const build = calls.find((c) => c[0] === 'build')
  assert.ok(build !== undefined, `docker build ran: ${verbs(calls).join(', ')}`)
  assert.match(build[build.indexOf('-f') + 1] ?? '', /\/sandbox\/Dockerfile$/)
  const state = await r.docker.read()
  const container = state.containers['ductor-sandbox']
  assert.ok(container !== undefined)
  assert.equal(container.image, 'ductor-sandbox')
  assert.equal(container.user, `${process.getuid?.()}:${process.getgid?.()}`)
  const mounts = Object.fromEntries(container.mounts.map((m) => [m.inside, m.host]))
  assert.equal(mounts['/ductor'], r.home)
  assert.equal(mounts['/home/ductor/.claude'], join(r.userHome, '.claude'))
  assert.equal(mounts['/home/ductor/.codex'], join(r.userHome, '.codex'))
  // Made once: later messages reuse the container (one inspect each, no create).
  assert.equal(verbs(calls).filter((v) => v === 'create').length, 1)
  assert.equal(verbs(calls).filter((v) => v === 'build').length, 1)
  // The admin token goes into the container by name, never on a command line (a process list shows those).
  for (const argv of calls) assert.ok(!argv.join(' ').includes(ADMIN_TOKEN), `no secret in: docker ${argv.join(' ')}`)
  const execRun = calls.find((c) => c[0] === 'exec' && c.includes('ductor-run'))
  assert.ok(execRun?.includes('DUCTOR_API_TOKEN'), 'the token is passed by name (-e DUCTOR_API_TOKEN)')
  assert.equal(execRun?.[execRun.indexOf('-w') + 1], '/ductor/workspace')

  const status = (await r.app.inject({ method: 'GET', url: '/api/status', headers: auth })).json()
  assert.deepEqual(status.sandbox, { enabled: true, where: 'docker', reason: null, container: 'ductor-sandbox', image: 'ductor-sandbox' })
  assert.match((await say(r, '/status')).reply, /Sandbox: Docker container `ductor-sandbox`/)
  assert.match(await readFile(join(r.paths.workspace, 'CLAUDE.md'), 'utf8'), /## Where you run: a Docker sandbox/)
})

test('a dead container is started again, and one that cannot start is recreated', async (t) => {
  const r = await rig(t)
  assert.equal((await say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')).reply, 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  execFileSync(join(r.docker.dir, 'docker'), ['kill', 'ductor-sandbox'], { env: { ...process.env, FAKE_DOCKER_STATE: r.docker.state } })
  const before = (await r.docker.calls()).length
  assert.equal((await say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')).reply, 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  assert.deepEqual(verbs((await r.docker.calls()).slice(before)).filter((v) => v !== 'exec'), ['container inspect', 'image inspect', 'start'])

  // Killed again, and now it cannot start (a broken container): removed and made anew.
  execFileSync(join(r.docker.dir, 'docker'), ['kill', 'ductor-sandbox'], { env: { ...process.env, FAKE_DOCKER_STATE: r.docker.state } })
  await r.docker.control({ startFails: true })
  const mark = (await r.docker.calls()).length
  const failing = say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')
  // The first start fails; let the next one (of the new container) work.
  await waitFor(async () => verbs((await r.docker.calls()).slice(mark)).includes('start') ? true : undefined, 10_000, 'the failed start')
  await r.docker.control({})
  const answer = await failing
  const seq = verbs((await r.docker.calls()).slice(mark)).filter((v) => v !== 'exec')
  if (seq.filter((v) => v === 'start').length >= 2) {
    assert.deepEqual(seq, ['container inspect', 'image inspect', 'start', 'rm', 'create', 'start'])
    assert.equal(answer.reply, 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  }
  // Whatever the interleaving, the next message runs in a fresh container.
  assert.equal((await say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')).reply, 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  assert.equal((await r.docker.read()).containers['ductor-sandbox']?.running, true)
})

test('Docker unusable: the reply still comes, from the host, with one warning in the log, /status and GET /api/status; back in the container once Docker answers', async (t) => {
  const r = await rig(t)
  await r.docker.control({ down: true })
  const first = await say(r, '[[reply-env:DUCTOR_SANDBOX]]')
  assert.equal(first.status, 'success', first.reply)
  assert.equal(first.reply, 'DUCTOR_SANDBOX=host')
  assert.equal((await say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')).reply, 'FAKE_DOCKER_CONTAINER=', 'not in a container')
  const warnings = r.logs.filter((l) => l.includes('Docker sandbox not usable'))
  assert.equal(warnings.length, 1, 'one warning, not one per run')
  assert.match(warnings[0] ?? '', /Cannot connect to the Docker daemon/)
  const status = (await r.app.inject({ method: 'GET', url: '/api/status', headers: auth })).json()
  assert.equal(status.sandbox.where, 'host')
  assert.match(status.sandbox.reason, /Cannot connect to the Docker daemon/)
  assert.match((await say(r, '/status')).reply, /Sandbox: Docker is not usable \(Docker does not answer: Cannot connect to the Docker daemon.*\)\. Runs go on on the host/)
  // The rules tell the agent it runs on the host now.
  assert.match(await readFile(join(r.paths.workspace, 'CLAUDE.md'), 'utf8'), /## Where you run: on the host/)

  await r.docker.control({})
  assert.equal((await say(r, '[[reply-env:FAKE_DOCKER_CONTAINER]]')).reply, 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  assert.ok(r.logs.some((l) => l.includes('Docker sandbox usable again')))
  assert.match(await readFile(join(r.paths.workspace, 'CLAUDE.md'), 'utf8'), /## Where you run: a Docker sandbox/)
})

test('no docker command at all, or an image that may not be built: a clear reason, and runs on the host', async (t) => {
  const fake = await createFakeDocker()
  t.after(fake.cleanup)
  const bin = await fakeClis(t)
  const built = await build(t, { config: testConfig({ docker: { enabled: true } }), env: { PATH: bin.dir, HOME: await tempDir(t) } })
  assert.equal((await say(built, '[[reply-env:DUCTOR_SANDBOX]]')).reply, 'DUCTOR_SANDBOX=host')
  const status = (await built.app.inject({ method: 'GET', url: '/api/status', headers: auth })).json()
  assert.match(status.sandbox.reason, /the docker command is not installed/)

  const noBuild = await build(t, { config: testConfig({ docker: { enabled: true, auto_build: false, image_name: 'my-image' } }), env: { ...fake.env(bin.dir), PATH: `${fake.dir}:${bin.dir}:/usr/bin:/bin`, HOME: await tempDir(t) } })
  assert.equal((await say(noBuild, '[[reply-env:DUCTOR_SANDBOX]]')).reply, 'DUCTOR_SANDBOX=host')
  const why = (await noBuild.app.inject({ method: 'GET', url: '/api/status', headers: auth })).json().sandbox.reason as string
  assert.match(why, /the image my-image does not exist and docker\.auto_build is off \(build it: docker build -t my-image .*sandbox\)/)
  assert.ok(!verbs(await fake.calls()).includes('build'))
})

/**
 * The live processes of the run's group inside the container: the wrapper writes the group id to the
 * container's /tmp/.ductor-runs/<run> (the fake maps it to a folder of its state).
 */
function insideGroup (runsDir: string, minimum: number): number[] | undefined {
  const files = readdirSync(runsDir)
  if (files.length !== 1) return undefined
  const pgid = Number(readFileSync(join(runsDir, files[0] as string), 'utf8').trim())
  if (!Number.isInteger(pgid) || pgid <= 1) return undefined
  const members = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    const stat = readStat(pid)
    return stat !== null && stat.pgid === pgid && stat.state !== 'Z'
  })
  return members.length >= minimum ? members : undefined
}
const aliveNow = (pid: number): boolean => { try { process.kill(pid, 0); return readStat(pid)?.state !== 'Z' } catch { return false } }

test('a stop ends the CLI inside the container too, and everything it started there', async (t) => {
  const r = await rig(t)
  const running = r.app.inject({ method: 'POST', url: '/api/chats/7/messages', headers: auth, payload: { text: '[[grandchild]] [[ignore-term]] [[hang]]' } })
  const runs = join(r.docker.state, 'containers', 'ductor-sandbox', 'tmp-ductor-runs')
  // The CLI and the grandchild it started, in the run's group inside the container.
  const inside = await waitFor(() => { try { return insideGroup(runs, 2) } catch { return undefined } }, 15_000, 'the CLI inside the container')
  const stop = await r.app.inject({ method: 'POST', url: '/api/chats/7/stop', headers: auth })
  assert.equal(stop.statusCode, 200, stop.body)
  const answer = (await running).json()
  assert.notEqual(answer.status, 'success')
  await waitFor(() => inside.every((pid) => !aliveNow(pid)) ? true : undefined, 10_000, `every process of the run inside gone: ${inside.filter(aliveNow).join(',')}`)
  const calls = await r.docker.calls()
  assert.ok(calls.some((c) => c[0] === 'exec' && c.includes('ductor-kill') && c.at(-1) === 'TERM'), 'SIGTERM was sent inside')
  assert.ok(calls.some((c) => c[0] === 'exec' && c.includes('ductor-kill') && c.at(-1) === 'KILL'), 'and SIGKILL for what ignored it')
  await waitFor(async () => (await readdir(runs)).length === 0 ? true : undefined, 5000, 'no run id file left')
})

test('after a kill -9 of the service, the next start ends the runs it left inside the container (CLI-group records)', async (t) => {
  const fake = await createFakeDocker()
  t.after(fake.cleanup)
  const dir = await tempDir(t)
  const env = { ...process.env, FAKE_DOCKER_STATE: fake.state }
  const docker = join(fake.dir, 'docker')
  execFileSync(docker, ['build', '-t', 'img', dir], { env })
  execFileSync(docker, ['create', '--name', 'box', '-v', `${dir}:/ductor`, 'img', 'sleep', 'infinity'], { env })
  execFileSync(docker, ['start', 'box'], { env })
  // A run as the service starts it: the docker client in its own host group, the CLI under the wrapper inside.
  const client = spawn(docker, ['exec', 'box', 'sh', '-c', WRAPPER, 'ductor-run', 'run-1', 'sh', '-c', 'sleep 300 & sleep 300'], { env, detached: true, stdio: 'ignore' })
  const inside = await waitFor(() => { try { return insideGroup(join(fake.state, 'containers', 'box', 'tmp-ductor-runs'), 3) } catch { return undefined } }, 10_000, 'the run inside')
  const start = readStat(client.pid as number)?.start as string
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  const records = join(dir, 'cli-groups.jsonl')
  await writeFile(records, JSON.stringify({ pid: client.pid, start, boot, inside: { docker, container: 'box', run: 'run-1' } }) + '\n')
  // The service dies: its docker client with it (as the runner's group record would have it killed), the run inside stays.
  process.kill(-(client.pid as number), 'SIGKILL')
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.ok(inside.every(aliveNow), 'killing the host client does not end the run in the container')
  const previous = process.env['FAKE_DOCKER_STATE']
  process.env['FAKE_DOCKER_STATE'] = fake.state
  try {
    assert.ok(await killRecordedGroups(records) >= 1)
  } finally {
    if (previous === undefined) delete process.env['FAKE_DOCKER_STATE']
    else process.env['FAKE_DOCKER_STATE'] = previous
  }
  await waitFor(() => inside.every((pid) => !aliveNow(pid)) ? true : undefined, 5000, 'the run inside ended')
  await waitFor(() => readdirSync(join(fake.state, 'containers', 'box', 'tmp-ductor-runs')).length === 0 ? true : undefined, 5000, 'its id file removed by the wrapper')
})

test('ductor doctor checks the sandbox (image still to build, usable, no docker, Docker down); ductor reset and uninstall remove the container (uninstall also the image it built)', { timeout: 180_000 }, async (t) => {
  const fake = await createFakeDocker()
  t.after(fake.cleanup)
  const bin = await fakeClis(t)
  const home = await tempDir(t)
  const userHome = await tempDir(t)
  await writeJsonAtomic(join(home, 'config', 'config.json'), { docker: { enabled: true } })
  const env = { ...fake.env(bin.dir, '/usr/bin:/bin'), HOME: userHome, DUCTOR_HOME: home }
  // The checks in-process (the same function `ductor doctor` runs), then once through the command.
  const check = async (extra: Record<string, string> = {}): Promise<{ status: string, detail: string, fix?: string }> => {
    const config = completeConfig({ docker: { enabled: true } })
    return (await checkSandbox(config, { runner: createCommandRunner({ env: { ...process.env, ...env, ...extra } }) })).result
  }
  // Nothing made yet: the service will build the image at start.
  assert.match((await check()).detail, /image ductor-sandbox is missing; the service builds it from sandbox\/Dockerfile at start/)
  // As the service makes it (a sandbox object of this home), then the doctor sees it running with the CLI inside.
  const sandbox = createDockerSandbox({ docker: () => ({ enabled: true, image_name: 'ductor-sandbox', container_name: 'ductor-sandbox', auto_build: true }), home, userHome, run: createCommandRunner({ env: { ...process.env, ...env } }) })
  assert.deepEqual(await sandbox.prepare(), { where: 'docker', container: 'ductor-sandbox' })
  const usable = await check()
  assert.equal(usable.status, 'ok')
  assert.match(usable.detail, /container ductor-sandbox runs \(image ductor-sandbox, claude inside\): the CLIs run in it/)
  // A PATH without any docker (not even a real one in /usr/bin).
  assert.match((await check({ PATH: bin.dir })).detail, /docker\.enabled is true but the docker command is not installed/)
  await fake.control({ down: true })
  const run = await ductor(['doctor', '--json'], env)
  const down = (JSON.parse(run.stdout) as Array<{ name: string, status: string, detail: string, fix?: string }>).find((c) => c.name === 'Docker sandbox')
  assert.equal(down?.status, 'warn', run.stdout)
  assert.match(down?.detail ?? '', /Docker does not answer \(Cannot connect to the Docker daemon.*\): the service runs the CLIs on the host, without the sandbox/)
  assert.match(down?.fix ?? '', /start Docker/)
  await fake.control({})

  // reset: the container goes, the image stays.
  const reset = await ductor(['reset', '--non-interactive', '--token', '222222222:AAHnewnewnewnewnewnewnewnewnewnewnew', '--user-id', '7'], env)
  assert.match(reset.stdout, /Removed the Docker sandbox: container ductor-sandbox\./, reset.stdout + reset.stderr)
  assert.deepEqual(Object.keys((await fake.read()).containers), [])
  assert.ok((await fake.read()).images['ductor-sandbox'] !== undefined)
  // The reset config has docker off; turn it on again and make the container, then uninstall.
  await writeJsonAtomic(join(home, 'config', 'config.json'), { ...JSON.parse(await readFile(join(home, 'config', 'config.json'), 'utf8')), docker: { enabled: true } })
  await sandbox.prepare()
  const uninstall = await ductor(['uninstall'], env)
  assert.match(uninstall.stdout, /Removed the Docker sandbox: container ductor-sandbox, image ductor-sandbox\./, uninstall.stdout + uninstall.stderr)
  assert.deepEqual(await fake.read(), { images: {}, containers: {} })
  const calls = await fake.calls()
  assert.ok(calls.some((c) => c.join(' ') === 'rm -f ductor-sandbox'))
})

test('uninstall leaves alone a container of the same name made for another home, and an image ductor did not build', async (t) => {
  const fake = await createFakeDocker()
  t.after(fake.cleanup)
  const env = { ...process.env, ...fake.env('/nonexistent') }
  const docker = join(fake.dir, 'docker')
  execFileSync(docker, ['build', '-t', 'theirs', '.'], { env, cwd: await tempDir(t) })
  execFileSync(docker, ['create', '--name', 'ductor-sandbox', '--label', 'ductor.home=/elsewhere/.ductor', 'theirs', 'sleep', 'infinity'], { env })
  const sandbox = createDockerSandbox({ docker: () => ({ enabled: true, image_name: 'theirs', container_name: 'ductor-sandbox', auto_build: true }), home: await tempDir(t), userHome: await tempDir(t), run: createCommandRunner({ env }) })
  assert.deepEqual(await sandbox.remove({ image: true }), [])
  assert.deepEqual(Object.keys((await fake.read()).containers), ['ductor-sandbox'])
  execFileSync(docker, ['rm', '-f', 'ductor-sandbox'], { env })
  assert.deepEqual(await sandbox.remove({ image: true }), [], 'an image without the ductor.sandbox label is the user\'s')
  assert.ok((await fake.read()).images['theirs'] !== undefined)
})

test('permission_mode "ask" with the sandbox in use: a clear error, the CLI never starts (no silent deny, no bypass)', async (t) => {
  const r = await rig(t, {})
  await r.app.inject({ method: 'PATCH', url: '/api/config', headers: auth, payload: { approvals: { chats: { 7: 'ask' } } } })
  const res = await r.app.inject({ method: 'POST', url: '/api/chats/7/messages', headers: auth, payload: { text: 'hello' } })
  const answer = res.json() as { status: string, reply: string }
  assert.equal(answer.status, 'error:ask_in_sandbox')
  const run = (await r.app.inject({ method: 'GET', url: '/api/runs?kind=chat', headers: auth })).json() as { runs: Array<{ status: string, error: string }> }
  assert.match(run.runs[0]?.error ?? '', /permission_mode "ask" does not work inside the Docker sandbox yet: nothing in the container can ask you, so this run was not started/)
  const calls = await r.docker.calls()
  assert.equal(calls.some((c) => c[0] === 'exec' && c.includes('ductor-run')), false, 'no CLI ran in the container')
  // Another chat, not in ask mode, still runs in the container.
  assert.equal((await say(r, '[[reply-env:DUCTOR_SANDBOX]]', '8')).reply, 'DUCTOR_SANDBOX=docker')
})

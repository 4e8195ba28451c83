import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, readFile, readdir, writeFile } from 'node:fs/promises'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { createFakeBotApi } from '../fakes/bot-api/server.ts'
import { textMessage } from '../fakes/bot-api/updates.ts'
import { createFakeDocker } from '../fakes/fake-docker.ts'
import { fakeClis, killTree, ROOT, spawnService, tempDir, waitFor } from '../helper.ts'
import { readStat } from '../../src/providers/process-group.ts'

/**
 * Issue 18, "Done when": a home of the Python ductor (test/fixtures/seed-home) with `docker.enabled`
 * true, run by `ductor serve`, used from Telegram (the fake Bot API) with a fake `docker` CLI
 * (test/fakes/fake-docker.mjs). With Docker usable the replies come from inside the container; with
 * Docker down they still come, from the host, with the warning in the log and /status; and a
 * `kill -9` of the service mid-run leaves nothing running in the container after the next start.
 */

const FIXTURE = join(ROOT, 'test', 'fixtures', 'seed-home')
const USER = 111111

test('the Python-era home with docker.enabled: replies from inside the container, from the host with the warning when Docker is down, and no run left inside after a kill -9', { timeout: 240_000 }, async (t) => {
  const configPath = join(FIXTURE, 'ductor-home', 'config', 'config.json')
  const config = JSON.parse(await readFile(configPath, 'utf8')) as { telegram_token: string, docker: Record<string, unknown> }
  const fake = createFakeBotApi({ token: config.telegram_token, rateLimits: false, maxPollMs: 200 })
  await fake.start()
  t.after(() => fake.close())

  const home = join(await tempDir(t, 'ductor-sandbox-home-'), '.ductor')
  await cp(join(FIXTURE, 'ductor-home'), home, { recursive: true })
  config.docker = { ...config.docker, enabled: true }
  await writeFile(join(home, 'config', 'config.json'), JSON.stringify(config, null, 2))
  const userHome = await tempDir(t, 'ductor-sandbox-user-')
  await cp(join(FIXTURE, 'claude-home'), join(userHome, '.claude'), { recursive: true })
  await cp(join(FIXTURE, 'codex-home'), join(userHome, '.codex'), { recursive: true })

  const docker = await createFakeDocker()
  t.after(docker.cleanup)
  const bin = await fakeClis(t)
  const env = {
    ...docker.env(bin.dir, `${bin.dir}:${process.env['PATH'] ?? ''}`),
    HOME: userHome,
    DUCTOR_HOME: home,
    DUCTOR_PORT: '0',
    DUCTOR_TELEGRAM_API_ROOT: fake.apiRoot
  }
  const start = async (): Promise<{ output: () => string, kill: () => Promise<number> }> => {
    const service = await spawnService(t, env)
    await service.up(120_000)
    return { output: service.output, kill: async () => { killTree(service.child); return await service.exited } }
  }

  let updateId = 1
  let messageId = 1
  const say = (text: string): void => {
    fake.pushUpdate({ update_id: updateId++, message: textMessage(text, { chatId: USER, messageId: messageId++ }) })
  }
  const seen = new Set<string>()
  /** The next message to the user that `fn` accepts and that was not taken before. */
  const reply = async (fn: (text: string) => boolean, what: string): Promise<string> => await waitFor(() => {
    for (const m of fake.messages(USER)) {
      const key = `${m.message_id}:${m.text}`
      if (!seen.has(key) && fn(m.text)) { seen.add(key); return m.text }
    }
    return undefined
  }, 60_000, what)

  const first = await start()
  // Docker usable: the reply comes from inside the container (only the fake daemon's exec sets this).
  say('where are you? [[reply-env:FAKE_DOCKER_CONTAINER]]')
  assert.equal(await reply((x) => x.startsWith('FAKE_DOCKER_CONTAINER='), 'the answer from the container'), 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  say('[[reply-env:DUCTOR_HOME]]')
  assert.equal(await reply((x) => x.startsWith('DUCTOR_HOME='), 'the home as the agent sees it'), 'DUCTOR_HOME=/ductor')
  const state = await docker.read()
  assert.deepEqual(Object.keys(state.containers), ['ductor-sandbox'], 'the config\'s container_name')
  assert.deepEqual(state.containers['ductor-sandbox']?.mounts.map((m) => [m.host, m.inside]).slice(0, 3), [
    [home, '/ductor'], [join(userHome, '.claude'), '/home/ductor/.claude'], [join(userHome, '.codex'), '/home/ductor/.codex']
  ])
  assert.match(await readFile(join(home, 'workspace', 'CLAUDE.md'), 'utf8'), /## Where you run: a Docker sandbox/, 'the rules tell the agent')

  // Docker goes down: the reply still comes, from the host, and the user and the log are told.
  await docker.control({ down: true })
  say('still there? [[reply-env:FAKE_DOCKER_CONTAINER]]')
  assert.equal(await reply((x) => x.startsWith('FAKE_DOCKER_CONTAINER='), 'the answer from the host'), 'FAKE_DOCKER_CONTAINER=')
  say('/status')
  assert.match(await reply((x) => x.includes('Sandbox:'), '/status'), /Sandbox: Docker is not usable \(Docker does not answer: Cannot connect to the Docker daemon.*\)\. Runs go on on the host/)
  await waitFor(() => first.output().includes('Docker sandbox not usable') ? true : undefined, 10_000, 'the warning in the log')
  assert.equal(first.output().split('Docker sandbox not usable').length - 1, 1, 'one warning')
  assert.match(await readFile(join(home, 'workspace', 'CLAUDE.md'), 'utf8'), /## Where you run: on the host/)

  // Docker back; a long run inside, and the service is killed with SIGKILL in the middle of it.
  await docker.control({})
  say('[[hang]] [[grandchild]]')
  const runs = join(docker.state, 'containers', 'ductor-sandbox', 'tmp-ductor-runs')
  let runFile = ''
  const inside = await waitFor(() => {
    const files = readdirSync(runs)
    if (files.length !== 1) return undefined
    runFile = files[0] as string
    const pgid = Number(readFileSync(join(runs, files[0] as string), 'utf8').trim())
    if (!(pgid > 1)) return undefined
    const members = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => readStat(pid)?.pgid === pgid && readStat(pid)?.state !== 'Z')
    return members.length >= 2 ? members : undefined
  }, 60_000, 'the run inside the container')
  await first.kill()
  // What is not there yet: give a wrongly coupled run a moment to die with the service.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const alive = (pid: number): boolean => { const s = readStat(pid); return s !== null && s.state !== 'Z' }
  assert.ok(inside.some(alive), 'the service\'s death alone does not end a run inside a container')
  const second = await start()
  await waitFor(() => inside.every((pid) => !alive(pid)) ? true : undefined, 20_000, 'the runs the killed service left inside the container ended by the next start')
  await waitFor(async () => (await readdir(runs)).includes(runFile) ? undefined : true, 10_000, 'its id file gone').catch((err) => {
    throw new Error(`${String(err)}: ${execFileSync('sh', ['-c', 'ps -eo pid,pgid,ppid,stat,cmd | grep -v grep | grep -E "ductor-run|fake-claude" | cut -c1-200 || true'], { encoding: 'utf8' })}`)
  })
  say('after the crash [[reply-env:FAKE_DOCKER_CONTAINER]]')
  assert.equal(await reply((x) => x.startsWith('FAKE_DOCKER_CONTAINER='), 'the answer after the restart'), 'FAKE_DOCKER_CONTAINER=ductor-sandbox')
  await second.kill()
})

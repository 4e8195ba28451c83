import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnCli, collect, killTree, runCli, tempDir, waitFor, fakeClis } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

test('the ductor command is a client of the admin API: chat streams, runs/sessions/memory print, --json for scripts', async (t) => {
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', ...bin.env, FAKE_CLI_REPLY: 'Hi from the assistant.' }
  const service = spawnCli(['serve', '--no-supervisor'], env)
  t.after(() => killTree(service))
  const done = collect(service, 180_000)
  await waitFor(() => readServiceInfo(join(home, 'state')).then((i) => i ?? undefined), 20_000, 'the service')

  const chat = await runCli(['chat', 'hello', 'there'], env)
  assert.equal(chat.code, 0, chat.stderr)
  assert.equal(chat.stdout, 'Hi from the assistant.\n')

  const runs = await runCli(['runs', '--json'], env)
  assert.equal(runs.code, 0, runs.stderr)
  const list = JSON.parse(runs.stdout)
  assert.equal(list.length, 1)
  assert.equal(list[0].kind, 'chat')
  assert.equal(list[0].chat_id, 'cli')
  assert.equal(list[0].status, 'success')
  const human = await runCli(['runs'], env)
  assert.match(human.stdout, /^STARTED \(UTC\)\s+KIND\s+REF/m)
  assert.match(human.stdout, /chat\s+-\s+cli\s+success/)

  const sessions = JSON.parse((await runCli(['sessions', '--json'], env)).stdout)
  assert.equal(sessions[0].chat_id, 'cli')

  const file = join(home, 'new-memory.md')
  await writeFile(file, '# Main memory\n\nPrefers short answers.\n')
  const edit = await runCli(['memory', 'edit', '--file', file], env)
  assert.match(edit.stdout, /Memory saved/)
  assert.equal((await runCli(['memory'], env)).stdout, '# Main memory\n\nPrefers short answers.\n')

  const badModel = await runCli(['chat', '--model', 'llama', 'hi'], env)
  assert.equal(badModel.code, 1)
  assert.match(badModel.stderr, /^ductor: body\/model: unknown model "llama"/)

  service.kill('SIGTERM')
  assert.equal((await done).code, 0)
  const down = await runCli(['runs'], env)
  assert.equal(down.code, 1)
  assert.match(down.stderr, /ductor: the ductor service is not running/)
})

test('DUCTOR_API_URL and DUCTOR_API_TOKEN point the command at a service explicitly', async () => {
  const result = await runCli(['sessions'], { DUCTOR_API_URL: 'http://127.0.0.1:9', DUCTOR_API_TOKEN: 'x', DUCTOR_HOME: '/nonexistent' })
  assert.equal(result.code, 1)
  assert.match(result.stderr, /cannot reach the ductor service at http:\/\/127\.0\.0\.1:9/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { build, ductor } from '../helper.ts'

test('the ductor command is a client of the admin API: chat streams, runs/sessions/memory print, --json for scripts', async (t) => {
  const { home, env, stop } = await build(t, { serve: true, env: { FAKE_CLI_REPLY: 'Hi from the assistant.' } })

  const chat = await ductor(['chat', 'hello', 'there'], env)
  assert.equal(chat.code, 0, chat.stderr)
  assert.equal(chat.stdout, 'Hi from the assistant.\n')

  const runs = await ductor(['runs', '--json'], env)
  assert.equal(runs.code, 0, runs.stderr)
  const list = JSON.parse(runs.stdout)
  assert.equal(list.length, 1)
  assert.equal(list[0].kind, 'chat')
  assert.equal(list[0].chat_id, 'cli')
  assert.equal(list[0].status, 'success')
  const human = await ductor(['runs'], env)
  assert.match(human.stdout, /^STARTED \(UTC\)\s+KIND\s+REF/m)
  assert.match(human.stdout, /chat\s+-\s+cli\s+success/)

  const sessions = JSON.parse((await ductor(['sessions', '--json'], env)).stdout)
  assert.equal(sessions[0].chat_id, 'cli')

  const file = join(home, 'new-memory.md')
  await writeFile(file, '# Main memory\n\nPrefers short answers.\n')
  const edit = await ductor(['memory', 'edit', '--file', file], env)
  assert.match(edit.stdout, /Memory saved/)
  assert.equal((await ductor(['memory'], env)).stdout, '# Main memory\n\nPrefers short answers.\n')

  const badModel = await ductor(['chat', '--model', 'llama', 'hi'], env)
  assert.equal(badModel.code, 1)
  assert.match(badModel.stderr, /^ductor: --model: unknown model "llama"/)

  assert.equal(await stop(), 0)
  const down = await ductor(['runs'], env)
  assert.equal(down.code, 1)
  assert.match(down.stderr, /ductor: the ductor service is not running/)
})

test('DUCTOR_API_URL and DUCTOR_API_TOKEN point the command at a service explicitly', async () => {
  const result = await ductor(['sessions'], { DUCTOR_API_URL: 'http://127.0.0.1:9', DUCTOR_API_TOKEN: 'x', DUCTOR_HOME: '/nonexistent' })
  assert.equal(result.code, 1)
  assert.match(result.stderr, /cannot reach the ductor service at http:\/\/127\.0\.0\.1:9/)
})

test('ductor chat whose service goes away mid-reply says the connection was lost and exits 1, keeping the text shown so far (it printed only "terminated")', async (t) => {
  const { createServer } = await import('node:http')
  let mode: 'reset' | 'end' = 'reset'
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('event: text\ndata: {"text":"half an ans"}\n\n', () => {
      // A kill -9 of the service resets the connection; a proxy may instead end the stream cleanly.
      setTimeout(() => { if (mode === 'reset') res.socket?.destroy(); else res.end() }, 50)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.close() })
  const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
  const env = { DUCTOR_API_URL: url, DUCTOR_API_TOKEN: 'x', DUCTOR_HOME: '/nonexistent' }
  for (const how of ['reset', 'end'] as const) {
    mode = how
    const chat = await ductor(['chat', 'hello'], env)
    assert.equal(chat.code, 1, how)
    assert.equal(chat.stdout, 'half an ans\n', how)
    assert.match(chat.stderr, new RegExp(`^ductor: the connection to the ductor service at ${url} was lost before the reply was complete \\(.+\\): the service stopped or crashed\\. Check it with \`ductor status\`, then send the message again\\n$`), how)
  }
})

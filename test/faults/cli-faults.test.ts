// CLI faults through the admin chat endpoint (issue 9): whatever the CLI does, the user gets a clear
// sentence (never a stack trace), the session is kept, and no process of the run survives.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rm } from 'node:fs/promises'
import { faultRig, survivors, assertNoStackTrace, auth } from './fault-helpers.ts'
import { waitFor } from '../helper.ts'
import { isProcessAlive } from '../../src/providers/process-group.ts'

test('crash mid-stream: a clear error, the session kept and resumed, no process left', async (t) => {
  const rig = await faultRig(t)
  const first = await rig.send('[[reply:hello there]]')
  assert.equal(first.body.status, 'success')
  const crash = await rig.send('[[crash:2]] go on')
  assert.equal(crash.statusCode, 200)
  assert.equal(crash.body.status, 'error:exit_1')
  assert.match(crash.body.reply, /Claude Code failed \(exit code 1\): fake crash/)
  assert.match(crash.body.reply, /Your session is kept/)
  assertNoStackTrace(crash.body.reply)
  assert.equal(crash.body.session_id, first.body.session_id)
  const next = await rig.send('and now?')
  assert.equal(next.body.status, 'success')
  assert.equal(next.body.session_id, first.body.session_id, 'the next message resumes the kept session')
  assert.deepEqual(survivors(rig.home, { serviceUp: true }), [])
})

test('garbage and half lines: the reply still arrives whole', async (t) => {
  const rig = await faultRig(t)
  const res = await rig.send('[[garbage]] [[reply:intact reply]]')
  assert.equal(res.body.status, 'success')
  assert.equal(res.body.reply, 'intact reply')
  assert.ok(rig.logs.some((l) => l.includes('skipped a malformed line from the CLI')))
})

test('50 MB of output: the run succeeds, heap stays flat, the text kept is capped', async (t) => {
  const rig = await faultRig(t)
  const admin = await rig.app.listenAdmin({ host: '127.0.0.1', port: 0 })
  const baseline = process.memoryUsage().heapUsed
  let peak = baseline
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed) }, 10)
  t.after(() => clearInterval(sampler))
  // SSE over a connection, so the 50 MB really flow through the orchestrator's sink to a client.
  // (Not inject: light-my-request also writes every chunk to a null socket that takes one turn of
  // the event loop per chunk, and went on draining the 50 MB for seconds after the test.)
  const res = await fetch(`${admin}/api/chats/7/messages`, { method: 'POST', headers: { ...auth, accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify({ text: '[[big:50]] [[reply:the end]]' }) })
  assert.equal(res.status, 200)
  assert.ok(res.body !== null)
  let streamed = 0
  let tail = ''
  for await (const chunk of res.body) {
    streamed += (chunk as Uint8Array).length
    tail = (tail + Buffer.from(chunk as Uint8Array).toString('utf8')).slice(-2000)
  }
  clearInterval(sampler)
  assert.ok(streamed > 40 * 1024 * 1024, `only ${streamed} bytes of text streamed (50 MB of JSON lines)`)
  assert.match(tail, /event: result\ndata: \{[^\n]*"status":"success"/, tail)
  const grew = peak - baseline
  assert.ok(grew < 120 * 1024 * 1024, `heap grew by ${Math.round(grew / 1e6)} MB for 50 MB of output`)
  assert.deepEqual(survivors(rig.home, { serviceUp: true }), [])

  // A crash after 20 MB of text: the reply salvaged from the stream is capped (1 M characters).
  const salvaged = await rig.send('[[big:20]] [[crash:15000]]', '8')
  assert.equal(salvaged.body.status, 'error:exit_1')
  assert.ok(salvaged.body.reply.length <= 1_000_000 + 1000, `salvaged reply is ${salvaged.body.reply.length} characters`)
  assert.match(salvaged.body.reply, /fake crash: something went badly wrong/)
})

test('a hang ends as error:timeout after cli_timeout with a clear sentence; the session is kept', async (t) => {
  const rig = await faultRig(t, { cli_timeout: 1 })
  const first = await rig.send('hello')
  const res = await rig.send('[[hang]] [[grandchild]]')
  assert.equal(res.body.status, 'error:timeout')
  assert.match(res.body.reply, /Claude Code timed out after 1 s\. Your session is kept/)
  assertNoStackTrace(res.body.reply)
  const { pid, grandchildPid } = await rig.recorded()
  assert.equal(isProcessAlive(pid), false)
  assert.equal(isProcessAlive(grandchildPid ?? 0), false, 'the CLI\'s own child (ignoring SIGTERM) is gone too')
  assert.equal(rig.app.stores.sessions.get('42')?.provider_sessions.claude?.session_id, first.body.session_id)
  assert.deepEqual(survivors(rig.home, { serviceUp: true }), [])
})

test('a CLI that ignores SIGTERM is killed with SIGKILL after the grace period', async (t) => {
  const rig = await faultRig(t)
  const pending = rig.send('[[ignore-term]]')
  const { pid } = await waitFor(async () => await rig.recorded().catch(() => undefined), 10_000, 'the CLI to start')
  const stop = await rig.app.inject({ method: 'POST', url: '/api/chats/42/stop', headers: auth })
  assert.equal(stop.json().stopped, true)
  const res = await pending
  assert.equal(res.body.status, 'error:aborted')
  assert.match(res.body.reply, /Stopped.$/)
  assert.equal(isProcessAlive(pid), false)
  assert.ok(rig.logs.some((l) => l.includes('outlived SIGTERM; sending SIGKILL')))
  assert.deepEqual(survivors(rig.home, { serviceUp: true }), [])
})

test('the binary disappears between runs: "not found, install it", session kept, back when it returns', async (t) => {
  const rig = await faultRig(t)
  const first = await rig.send('hello')
  assert.equal(first.body.status, 'success')
  const saved = await readFile(rig.bin.claude, 'utf8')
  await rm(rig.bin.claude)
  const gone = await rig.send('are you there?')
  assert.equal(gone.statusCode, 200)
  assert.equal(gone.body.status, 'error:cli_not_found_claude')
  assert.match(gone.body.reply, /Claude Code CLI not found\. Install it with `npm install -g @anthropic-ai\/claude-code`/)
  assertNoStackTrace(gone.body.reply)
  assert.equal(rig.app.stores.sessions.get('42')?.provider_sessions.claude?.session_id, first.body.session_id)
  const { writeFile, chmod } = await import('node:fs/promises')
  await writeFile(rig.bin.claude, saved)
  await chmod(rig.bin.claude, 0o755)
  const back = await rig.send('back?')
  assert.equal(back.body.status, 'success')
  assert.equal(back.body.session_id, first.body.session_id)
})

test('100 aborts (stop and DELETE /api/runs/:id, some with grandchildren ignoring SIGTERM): zero survivors', { timeout: 60_000 }, async (t) => {
  const rig = await faultRig(t, { limits: { max_concurrent_runs: 10 } })
  const chats = Array.from({ length: 10 }, (_, i) => `abort${i}`)
  const seenPids = new Set<number>()
  let aborted = 0
  for (let round = 0; round < 10; round++) {
    const grandchild = round % 5 === 4
    const pending = chats.map(async (chat) => await rig.send(`[[hang]]${grandchild ? ' [[grandchild]]' : ''}`, chat))
    await waitFor(() => rig.app.runner.registry.list().length === chats.length ? true : undefined, 20_000, 'ten running CLIs')
    for (const p of rig.app.runner.registry.list()) seenPids.add(p.pid)
    const active = rig.app.runner.registry.list()
    await Promise.all(active.map(async (p, i) => {
      const res = i % 2 === 0
        ? await rig.app.inject({ method: 'POST', url: `/api/chats/${p.chatId}/stop`, headers: auth })
        : await rig.app.inject({ method: 'DELETE', url: `/api/runs/${p.runId}`, headers: auth })
      assert.equal(res.statusCode, 200, res.body)
    }))
    for (const res of await Promise.all(pending)) {
      assert.equal(res.body.status, 'error:aborted')
      aborted++
    }
  }
  assert.equal(aborted, 100)
  assert.deepEqual(rig.app.runner.registry.list(), [])
  assert.deepEqual([...seenPids].filter(isProcessAlive), [])
  assert.deepEqual(survivors(rig.home, { serviceUp: true }), [], 'no CLI and none of its children survive')
  const active = await rig.app.inject({ method: 'GET', url: '/api/runs/active', headers: auth })
  assert.deepEqual(active.json().runs, [])
})

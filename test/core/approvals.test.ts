import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createApprovals, type ApprovalEvent } from '../../src/core/approvals.ts'
import { memoryLogger, tempDir, waitFor } from '../helper.ts'
import type { ChatEvent } from '../../src/core/sink.ts'

async function setup (t: Parameters<typeof tempDir>[0], timeoutSeconds = 60): Promise<{ approvals: Awaited<ReturnType<typeof createApprovals>>, events: ApprovalEvent[], dir: string, now: { ms: number } }> {
  const dir = await tempDir(t)
  const now = { ms: 1_000_000 }
  const approvals = await createApprovals({ clock: { now: () => now.ms }, logger: memoryLogger().logger, timeoutSeconds: () => timeoutSeconds, rulesPath: join(dir, 'approval-rules.json') })
  const events: ApprovalEvent[] = []
  approvals.subscribe((e) => events.push(e))
  return { approvals, events, dir, now }
}

const bash = { tool: 'Bash', input: { command: 'rm -rf build' } }

test('a request settles exactly once: the first answer wins, later ones and unknown ids change nothing', async (t) => {
  const { approvals, events } = await setup(t)
  const sink: ChatEvent[] = []
  const run = approvals.openRun({ runId: 'r1', chatIds: ['111'], source: { kind: 'chat', ref: null, title: null }, sink: { emit: (e) => sink.push(e) } })
  const decision = approvals.ask(run.token, bash)
  assert.ok(decision !== null)
  const [request] = approvals.pending()
  assert.ok(request !== undefined)
  assert.match(request.id, /^[0-9a-f]{32}$/)
  assert.equal(request.summary.detail, '$ rm -rf build')
  assert.equal(approvals.answer('f'.repeat(32), 'allow', { via: 'api' }), 'unknown')
  assert.equal(approvals.answer(request.id, 'allow', { via: 'telegram', chatId: '222', userId: 222 }), 'unknown', 'a press in another chat')
  assert.equal(approvals.answer(request.id, 'deny', { via: 'telegram', chatId: '111', userId: 111 }), 'ok')
  assert.equal(approvals.answer(request.id, 'allow', { via: 'api' }), 'unknown', 'a second answer')
  assert.deepEqual(await decision, { behavior: 'deny', message: 'The user denied this request. Do not try to do the same another way; ask the user what to do instead.' })
  assert.deepEqual(events.map((e) => e.type), ['requested', 'settled'])
  assert.deepEqual(sink.map((e) => e.type), ['approval', 'approval_settled'])
  run.close()
  assert.equal(approvals.ask(run.token, bash), null, 'the token of an ended run names nothing')
})

test('the timeout denies and counts; an answer after the expiry is refused', async (t) => {
  const { approvals, now } = await setup(t, 1)
  const run = approvals.openRun({ runId: 'r2', chatIds: ['111'], source: { kind: 'cron', ref: 'job', title: 'Job' } })
  const decision = await approvals.ask(run.token, bash)
  assert.deepEqual(decision, { behavior: 'deny', message: 'Nobody answered within 1 s, so ductor denied this request.' })
  assert.equal(run.timedOut, 1)
  const late = approvals.ask(run.token, bash)
  const [request] = approvals.pending()
  now.ms += 5000
  assert.equal(approvals.answer(request?.id ?? '', 'allow', { via: 'api' }), 'settled', 'past its expiry: denied, not allowed')
  assert.equal((await late)?.behavior, 'deny')
})

test('the end of a run denies what waits; "stop" interrupts; "always" remembers a rule per chat, on disk, revocable', async (t) => {
  const { approvals, dir } = await setup(t)
  const run = approvals.openRun({ runId: 'r3', chatIds: ['111'], source: { kind: 'chat', ref: null, title: null } })
  const waiting = approvals.ask(run.token, bash)
  run.close()
  assert.equal((await waiting)?.behavior, 'deny')

  const run2 = approvals.openRun({ runId: 'r4', chatIds: ['111'], source: { kind: 'chat', ref: null, title: null } })
  const stop = approvals.ask(run2.token, bash)
  approvals.answer(approvals.pending()[0]?.id ?? '', 'stop', { via: 'api' })
  assert.deepEqual(await stop, { behavior: 'deny', message: 'The user denied this request and stopped the run.', interrupt: true })
  assert.equal(run2.stopped, true)

  const always = approvals.ask(run2.token, bash)
  approvals.answer(approvals.pending()[0]?.id ?? '', 'always', { via: 'telegram', chatId: '111', userId: 111 })
  assert.deepEqual(await always, { behavior: 'allow', updatedInput: bash.input })
  assert.deepEqual(await approvals.ask(run2.token, bash), { behavior: 'allow', updatedInput: bash.input }, 'asked no more')
  assert.equal(approvals.pending().length, 0)
  const other = approvals.openRun({ runId: 'r5', chatIds: ['222'], source: { kind: 'chat', ref: null, title: null } })
  const elsewhere = approvals.ask(other.token, bash)
  assert.equal(approvals.pending().length, 1, 'another chat is still asked')
  other.close()
  await elsewhere
  const [rule] = approvals.rules('111')
  assert.equal(rule?.rule, 'Bash(rm -rf build)')
  // Written in the background: wait for the file, not for a fixed time (a loaded machine takes longer).
  const onDisk = await waitFor(async () => await readFile(join(dir, 'approval-rules.json'), 'utf8').then((text) => JSON.parse(text) as Array<{ rule: string }>, () => undefined), 10_000, 'the rule on disk')
  assert.equal(onDisk[0]?.rule, 'Bash(rm -rf build)')
  assert.equal(await approvals.revokeRule(rule?.id ?? '', '222'), false, 'not from another chat')
  assert.equal(await approvals.revokeRule(rule?.id ?? '', '111'), true)
  assert.deepEqual(approvals.rules(), [])
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createChatLanes } from '../../src/core/lanes.ts'
import { createLimiter } from '../../src/core/limiter.ts'

function deferred () {
  let resolve!: () => void
  const promise = new Promise<void>((_resolve) => { resolve = _resolve })
  return { promise, resolve }
}

test('a chat runs one entry at a time, in order; other chats run alongside', async () => {
  const lanes = createChatLanes()
  const order: string[] = []
  const gate = deferred()
  const queued: Array<[string, number]> = []
  const a = lanes.submit('1', { run: async () => { order.push('a:start'); await gate.promise; order.push('a:end') } })
  const b = lanes.submit('1', { run: async () => { order.push('b') }, onQueued: (id, pos) => queued.push([id, pos]) })
  const c = lanes.submit('2', { run: async () => { order.push('c') } })
  await c.finished
  assert.deepEqual(order, ['a:start', 'c'], 'chat 2 does not wait for chat 1')
  assert.deepEqual(queued, [[b.entryId, 1]])
  assert.equal(lanes.isBusy('1'), true)
  assert.equal(lanes.queueDepth('1'), 1)
  gate.resolve()
  assert.equal(await a.finished, 'done')
  assert.equal(await b.finished, 'done')
  assert.deepEqual(order, ['a:start', 'c', 'a:end', 'b'])
  assert.equal(lanes.isBusy('1'), false)
  assert.deepEqual(lanes.snapshot(), [])
})

test('abort stops the running entry and discards the queue; cancel drops one queued entry', async () => {
  const lanes = createChatLanes()
  const discarded: string[] = []
  let sawAbort = false
  const running = lanes.submit('9', {
    run: async (signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => { sawAbort = true; resolve() }))
    }
  })
  const q1 = lanes.submit('9', { run: async () => { throw new Error('must not run') }, onDiscarded: (id, why) => discarded.push(`${id}:${why}`) })
  const q2 = lanes.submit('9', { run: async () => { throw new Error('must not run') }, onDiscarded: (id, why) => discarded.push(`${id}:${why}`) })
  assert.equal(lanes.cancel('9', q1.entryId), true)
  assert.equal(lanes.cancel('9', q1.entryId), false, 'already gone')
  assert.deepEqual(lanes.abort('9'), { stopped: true, discarded: 1 })
  assert.equal(await running.finished, 'done')
  assert.equal(sawAbort, true)
  assert.equal(await q1.finished, 'discarded')
  assert.equal(await q2.finished, 'discarded')
  assert.deepEqual(discarded, [`${q1.entryId}:cancelled`, `${q2.entryId}:aborted`])
  assert.deepEqual(lanes.abort('9'), { stopped: false, discarded: 0 })
})

test('a failing entry does not block the lane', async () => {
  const errors: unknown[] = []
  const lanes = createChatLanes({ onError: (err) => errors.push(err) })
  const a = lanes.submit('1', { run: async () => { throw new Error('boom') } })
  let ran = false
  const b = lanes.submit('1', { run: async () => { ran = true } })
  await a.finished
  await b.finished
  assert.equal(ran, true)
  assert.equal(errors.length, 1)
})

test('the limiter admits at most max holders, first come first served, and waiting can be abandoned', async () => {
  const limiter = createLimiter(2)
  const r1 = await limiter.acquire()
  const r2 = await limiter.acquire()
  const granted: number[] = []
  const p3 = limiter.acquire().then((release) => { granted.push(3); return release })
  const controller = new AbortController()
  const p4 = limiter.acquire(controller.signal)
  const p5 = limiter.acquire().then((release) => { granted.push(5); return release })
  assert.equal(limiter.active, 2)
  assert.equal(limiter.waiting, 3)
  controller.abort(new Error('gave up'))
  await assert.rejects(p4, /gave up/)
  r1()
  r1()
  const r3 = await p3
  assert.deepEqual(granted, [3], 'a double release frees one slot only')
  r2()
  const r5 = await p5
  assert.deepEqual(granted, [3, 5])
  r3()
  r5()
  assert.equal(limiter.active, 0)
})

test('paused for a shutdown: the running entry goes on, nothing queued starts, the queue is let go as "shutdown"', async () => {
  const lanes = createChatLanes()
  const started: string[] = []
  const why: string[] = []
  const gate = deferred()
  const a = lanes.submit('1', { run: async () => { started.push('a'); await gate.promise } })
  const b = lanes.submit('1', { run: async () => { started.push('b') }, onDiscarded: (_id, w) => why.push(w) })
  lanes.pause()
  const c = lanes.submit('2', { run: async () => { started.push('c') }, onDiscarded: (_id, w) => why.push(w) })
  gate.resolve()
  assert.equal(await a.finished, 'done')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(started, ['a'], 'b waits behind the pause, c never starts')
  for (const { chatId } of lanes.snapshot()) lanes.abort(chatId, 'shutdown')
  assert.equal(await b.finished, 'discarded')
  assert.equal(await c.finished, 'discarded')
  assert.deepEqual(why, ['shutdown', 'shutdown'])
  assert.deepEqual(lanes.snapshot(), [])
})

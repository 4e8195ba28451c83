import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDependencyQueue } from '../../src/automation/dependency-queue.ts'

function deferred<T = void> () {
  let settle!: (value: T) => void
  const promise = new Promise<T>((resolve) => { settle = resolve })
  return { promise, resolve: settle }
}

const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

test('tasks with the same key run one at a time, in arrival order', async () => {
  const queue = createDependencyQueue()
  const log: string[] = []
  const gates = [deferred(), deferred(), deferred()]
  const runs = gates.map((gate, i) => queue.run('chrome', async () => {
    log.push(`start ${i}`)
    await gate.promise
    log.push(`end ${i}`)
    return i
  }))
  await tick()
  assert.deepEqual(log, ['start 0'])
  assert.deepEqual(queue.depths(), { chrome: 3 })
  gates[0]!.resolve()
  await tick()
  assert.deepEqual(log, ['start 0', 'end 0', 'start 1'])
  gates[2]!.resolve() // the third finishing early must not let it start before the second
  await tick()
  assert.deepEqual(log, ['start 0', 'end 0', 'start 1'])
  gates[1]!.resolve()
  assert.deepEqual(await Promise.all(runs), [0, 1, 2])
  assert.deepEqual(log, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2'])
  assert.deepEqual(queue.depths(), {})
})

test('different keys and tasks without a key run in parallel', async () => {
  const queue = createDependencyQueue()
  const gate = deferred()
  let started = 0
  const task = async (): Promise<void> => { started++; await gate.promise }
  const all = Promise.all([queue.run('a', task), queue.run('b', task), queue.run(null, task), queue.run(undefined, task), queue.run('  ', task)])
  await tick()
  assert.equal(started, 5)
  assert.deepEqual(queue.lanes(), [{ key: 'a', running: true, waiting: 0 }, { key: 'b', running: true, waiting: 0 }])
  gate.resolve()
  await all
})

test('a failing task releases its key and the next one runs', async () => {
  const queue = createDependencyQueue()
  const first = queue.run('db', async () => { throw new Error('boom') })
  const firstSync = queue.run('db', () => { throw new Error('sync boom') })
  const second = queue.run('db', async () => 'ok')
  await assert.rejects(first, /boom/)
  await assert.rejects(firstSync, /sync boom/)
  assert.equal(await second, 'ok')
  assert.deepEqual(queue.depths(), {})
})

test('a waiting task can be cancelled; it never runs and the lane moves on', async () => {
  const queue = createDependencyQueue()
  const gate = deferred()
  const ran: string[] = []
  const first = queue.run('k', async () => { ran.push('first'); await gate.promise })
  const controller = new AbortController()
  const cancelled = queue.run('k', async () => { ran.push('cancelled') }, { signal: controller.signal })
  const third = queue.run('k', async () => { ran.push('third') })
  await tick()
  assert.deepEqual(queue.depths(), { k: 3 })
  controller.abort()
  await assert.rejects(cancelled, { code: 'unavailable' })
  assert.deepEqual(queue.depths(), { k: 2 })
  gate.resolve()
  await first
  await third
  assert.deepEqual(ran, ['first', 'third'])
  await assert.rejects(queue.run('k', async () => {}, { signal: AbortSignal.abort() }), { code: 'unavailable' })
})

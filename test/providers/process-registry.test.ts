import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createProcessRegistry } from '../../src/providers/process-registry.ts'
import type { StopReason } from '../../src/providers/outcome.ts'

function setup (): { registry: ReturnType<typeof createProcessRegistry>, stopped: Array<[string, StopReason]>, clock: { t: number }, add: (runId: string, chatId: string, startedAt: number) => void } {
  const clock = { t: 1_000_000 }
  const registry = createProcessRegistry({ clock: { now: () => clock.t } })
  const stopped: Array<[string, StopReason]> = []
  const add = (runId: string, chatId: string, startedAt: number): void => {
    const unregister = registry.register({
      runId,
      chatId,
      provider: 'claude',
      pid: 1000 + stopped.length,
      startedAt,
      stop: async (reason) => {
        stopped.push([runId, reason])
        await new Promise((resolve) => setTimeout(resolve, 5))
        unregister()
      }
    })
  }
  return { registry, stopped, clock, add }
}

test('sweepStale stops only processes older than the limit, as "stale"', async () => {
  const { registry, stopped, clock, add } = setup()
  add('old', 'a', clock.t - 3_600_000)
  add('young', 'a', clock.t - 60_000)
  assert.equal(await registry.sweepStale(1_200_000), 1)
  assert.deepEqual(stopped, [['old', 'stale']])
  assert.deepEqual(registry.list().map((p) => p.runId), ['young'])
})

test('abortRun and abortChat accept numeric chat ids and report what they stopped', async () => {
  const { registry, stopped, clock, add } = setup()
  add('r1', '42', clock.t)
  add('r2', '7', clock.t)
  assert.equal(await registry.abortRun('missing'), false)
  assert.equal(await registry.abortChat(42), 1)
  assert.equal(await registry.abortRun('r2', 'timeout'), true)
  assert.deepEqual(stopped, [['r1', 'user'], ['r2', 'timeout']])
  assert.deepEqual(registry.list(), [])
  assert.equal(await registry.killAll(), 0)
})

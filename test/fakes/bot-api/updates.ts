/**
 * The update queue behind the fake's getUpdates: long polling (real time, capped), `offset`
 * confirms updates, a second poller ends the first with Telegram's 409.
 */
import { ApiError } from './methods.ts'
import type { Params } from './methods.ts'

type Update = Record<string, unknown> & { update_id: number }

export interface UpdateQueue {
  push: (update: Record<string, unknown>) => Update
  poll: (params: Params) => Promise<Update[]>
  size: () => number
  clear: () => void
  close: () => void
}

export function createUpdateQueue (maxPollMs: number): UpdateQueue {
  let queue: Update[] = []
  let nextId = 1
  let waiter: { wake: () => void, conflict: () => void } | null = null

  function confirm (offset: number): void {
    if (offset > 0) queue = queue.filter((u) => u.update_id >= offset)
  }

  return {
    push (update) {
      const id = typeof update.update_id === 'number' ? update.update_id : nextId
      nextId = Math.max(nextId, id + 1)
      const u = { ...update, update_id: id }
      queue.push(u)
      waiter?.wake()
      return u
    },
    async poll (params) {
      const offset = Number(params.offset ?? 0)
      const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)))
      const timeout = Number(params.timeout ?? 0)
      confirm(offset)
      if (queue.length === 0 && timeout > 0) {
        waiter?.conflict()
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(done, Math.min(timeout * 1000, maxPollMs))
          function done (): void {
            clearTimeout(timer)
            waiter = null
            resolve()
          }
          waiter = {
            wake: done,
            conflict () {
              clearTimeout(timer)
              waiter = null
              reject(new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'))
            }
          }
        })
      }
      return queue.slice(0, limit)
    },
    size: () => queue.length,
    clear () { queue = [] },
    close () { waiter?.wake() }
  }
}

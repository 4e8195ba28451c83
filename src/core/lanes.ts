import { randomUUID } from 'node:crypto'

/**
 * Per-chat FIFO lanes (SPEC §4, §5): one entry runs at a time per chat, the rest wait in order.
 * A queued entry can be cancelled; aborting a chat stops the running entry (its AbortSignal fires)
 * and discards everything queued behind it. Different chats run independently.
 */
export interface LaneTask {
  /** Runs the entry. Must stop promptly when `signal` aborts. Exceptions are caught and logged by the caller. */
  run: (signal: AbortSignal) => Promise<void>
  /** Called when the entry has to wait; `position` is 1 for the next in line. */
  onQueued?: (entryId: string, position: number) => void
  /** Called when a previously queued entry starts. */
  onDequeued?: (entryId: string) => void
  /** Called when a queued entry is dropped (cancelled, the chat was aborted, or the service is shutting down). */
  onDiscarded?: (entryId: string, why: DiscardReason) => void
}

export type LaneOutcome = 'done' | 'discarded'

/** `shutdown`: the service stops; what was queued is not lost but left to the durable inbox to replay. */
export type DiscardReason = 'cancelled' | 'aborted' | 'shutdown'

export interface LaneSubmission {
  entryId: string
  /** Settles when the entry has run (or failed) or was discarded. Never rejects. */
  finished: Promise<LaneOutcome>
}

export interface ChatLanes {
  submit: (chatId: string, task: LaneTask) => LaneSubmission
  /** Stops the running entry and discards the queue. Returns what it did. */
  abort: (chatId: string, why?: 'aborted' | 'shutdown') => { stopped: boolean, discarded: number }
  /**
   * Shutdown: no queued entry starts any more (running ones go on until they end or are aborted), so
   * nothing is started only to be killed a moment later; the queues wait for `abort(…, 'shutdown')`.
   */
  pause: () => void
  /** Drops one queued entry; false when it is not queued (already running or gone). */
  cancel: (chatId: string, entryId: string) => boolean
  isBusy: (chatId: string) => boolean
  queueDepth: (chatId: string) => number
  /** Chats with work, for /api/status. */
  snapshot: () => Array<{ chatId: string, running: boolean, queued: number }>
}

interface Entry {
  id: string
  task: LaneTask
  settle: (outcome: LaneOutcome) => void
  wasQueued: boolean
}

interface Lane {
  running: { entry: Entry, controller: AbortController } | null
  queue: Entry[]
}

export function createChatLanes (opts: { onError?: (err: unknown, chatId: string) => void } = {}): ChatLanes {
  const lanes = new Map<string, Lane>()
  let paused = false

  const lane = (chatId: string): Lane => {
    let l = lanes.get(chatId)
    if (l === undefined) {
      l = { running: null, queue: [] }
      lanes.set(chatId, l)
    }
    return l
  }

  const start = (chatId: string, l: Lane): void => {
    if (paused && l.queue.length > 0) return
    const entry = l.queue.shift()
    if (entry === undefined) {
      lanes.delete(chatId)
      return
    }
    const controller = new AbortController()
    l.running = { entry, controller }
    if (entry.wasQueued) safely(() => entry.task.onDequeued?.(entry.id))
    const runEntry = async (): Promise<void> => {
      try {
        await entry.task.run(controller.signal)
      } catch (err) {
        opts.onError?.(err, chatId)
      } finally {
        l.running = null
        entry.settle('done')
        start(chatId, l)
      }
    }
    runEntry().catch(() => {})
  }

  const safely = (fn: () => void): void => {
    try { fn() } catch {}
  }

  return {
    submit (chatId, task) {
      const l = lane(chatId)
      let settle!: (outcome: LaneOutcome) => void
      const finished = new Promise<LaneOutcome>((resolve) => { settle = resolve })
      const entry: Entry = { id: randomUUID(), task, settle, wasQueued: false }
      l.queue.push(entry)
      if (l.running === null && l.queue.length === 1 && !paused) {
        start(chatId, l)
      } else {
        entry.wasQueued = true
        safely(() => task.onQueued?.(entry.id, l.queue.length))
      }
      return { entryId: entry.id, finished }
    },
    abort (chatId, why = 'aborted') {
      const l = lanes.get(chatId)
      if (l === undefined) return { stopped: false, discarded: 0 }
      const dropped = l.queue.splice(0)
      if (l.running === null) lanes.delete(chatId)
      for (const entry of dropped) {
        safely(() => entry.task.onDiscarded?.(entry.id, why))
        entry.settle('discarded')
      }
      const stopped = l.running !== null
      l.running?.controller.abort(new Error(why === 'shutdown' ? 'stopped: the service is shutting down' : 'stopped: /stop, an abort word or the admin API'))
      return { stopped, discarded: dropped.length }
    },
    cancel (chatId, entryId) {
      const l = lanes.get(chatId)
      const i = l?.queue.findIndex((e) => e.id === entryId) ?? -1
      if (l === undefined || i === -1) return false
      const [entry] = l.queue.splice(i, 1)
      if (entry !== undefined) {
        safely(() => entry.task.onDiscarded?.(entry.id, 'cancelled'))
        entry.settle('discarded')
      }
      return true
    },
    pause () { paused = true },
    isBusy: (chatId) => lanes.get(chatId)?.running != null,
    queueDepth: (chatId) => lanes.get(chatId)?.queue.length ?? 0,
    snapshot: () => [...lanes].map(([chatId, l]) => ({ chatId, running: l.running !== null, queued: l.queue.length }))
  }
}

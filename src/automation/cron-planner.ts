import type { Logger } from '../logger-types.ts'
import { nextRun, type PlanEntry } from './cron-plan.ts'

/**
 * Keeps the next run of every enabled job precomputed in a min-heap keyed by time, so a scheduler
 * tick costs O(k log n) for the k jobs that are due, not a cron evaluation per job. A job's next run
 * is recomputed only when it fired or its schedule/zone changed.
 *
 * Planning a job costs a cron evaluation (0.05–0.5 ms), so planning 10,000 new jobs at once would hold
 * the event loop for seconds. `sync(…, { defer: true })` only records what changed; `planPending`
 * then plans the recorded jobs a slice at a time (the scheduler runs slices between event-loop turns).
 * A deferred job is planned from the instant of its sync, so a run that fell due while it waited still
 * fires, late by the planning time (the jobs that waited are not lost, nor do they run twice).
 */

export interface DueRun {
  id: string
  /** The planned instant (ms). Several missed runs of one job (suspend) collapse into one. */
  at: number
}

export interface SyncOptions {
  /** Record new and changed entries as pending instead of planning them now (see `planPending`). */
  defer?: boolean
}

export interface CronPlanner {
  /** Replaces the planned set with `entries`; unchanged entries keep their next run. */
  sync: (entries: Iterable<PlanEntry>, after: number, opts?: SyncOptions) => { added: number, removed: number, changed: number }
  /**
   * Plans pending (deferred) entries: at least `minCount`, then more while `budgetMs` lasts.
   * Returns how many are still pending.
   */
  planPending: (budgetMs: number, minCount?: number) => number
  /** Entries recorded by a deferred sync and not planned yet (they cannot be due before they are). */
  readonly pending: number
  /** Adds or replaces one entry; returns its next run (null: never, or invalid schedule). */
  upsert: (entry: PlanEntry, after: number) => number | null
  remove: (id: string) => boolean
  /**
   * Removes and returns the planned runs due at or before `now` (the `limit` soonest), and plans each
   * job's following run after `now`.
   */
  takeDue: (now: number, limit?: number) => DueRun[]
  /** The job's next run (a pending job is planned now). */
  nextRunOf: (id: string) => number | null
  /** The earliest planned run, or null (pending entries are not looked at). */
  peek: () => number | null
  /** The `limit` soonest runs, soonest first (for the status API; plans every pending entry first). */
  upcoming: (limit: number) => DueRun[]
  readonly size: number
}

interface Slot {
  entry: PlanEntry
  at: number | null
  version: number
  /** Set while the slot waits to be planned: the instant to plan it from. */
  pendingAfter: number | null
}

interface HeapItem {
  at: number
  id: string
  version: number
}

type ComputeNext = (schedule: string, tz: string, after: number) => number | null

export function createCronPlanner (opts: { logger?: Logger, computeNext?: ComputeNext } = {}): CronPlanner {
  const computeNext = opts.computeNext ?? nextRun
  const slots = new Map<string, Slot>()
  const heap: HeapItem[] = []
  let version = 0
  /** Deferred slots in sync order (superseded ones are skipped when met). */
  let queue: Array<{ id: string, version: number }> = []
  let queueHead = 0
  let pendingCount = 0
  /** Plans of deferred slots by `after`, schedule and zone (many jobs share a schedule). */
  const pendingMemo = new Map<string, number | null>()

  function push (item: HeapItem): void {
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]!.at <= item.at) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = item
  }

  function pop (): HeapItem | undefined {
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left
      if (heap[child]!.at >= last.at) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
    return top
  }

  function isLive (item: HeapItem): boolean {
    return slots.get(item.id)?.version === item.version
  }

  function compact (): void {
    // Superseded items are dropped lazily; rebuild when they outnumber the live ones.
    if (heap.length <= 64 || heap.length <= 2 * slots.size) return
    const live = heap.filter(isLive)
    heap.length = 0
    for (const item of live) push(item)
  }

  function plan (entry: PlanEntry, after: number, memo?: Map<string, number | null>): number | null {
    const key = `${after}\u0000${entry.schedule}\u0000${entry.timezone}`
    if (memo?.has(key) === true) return memo.get(key) ?? null
    let at: number | null
    try {
      at = computeNext(entry.schedule, entry.timezone, after)
    } catch (err) {
      opts.logger?.warn({ jobId: entry.id, schedule: entry.schedule, err }, 'cron job has an invalid schedule; it will not run')
      at = null
    }
    memo?.set(key, at)
    return at
  }

  function place (entry: PlanEntry, at: number | null): void {
    const old = slots.get(entry.id)
    if (old?.pendingAfter != null) pendingCount--
    const slot: Slot = { entry, at, version: ++version, pendingAfter: null }
    slots.set(entry.id, slot)
    if (at !== null) push({ at, id: entry.id, version: slot.version })
  }

  function defer (entry: PlanEntry, after: number): void {
    const old = slots.get(entry.id)
    if (old?.pendingAfter == null) pendingCount++
    const slot: Slot = { entry, at: null, version: ++version, pendingAfter: after }
    slots.set(entry.id, slot)
    queue.push({ id: entry.id, version: slot.version })
  }

  function drop (id: string): boolean {
    const slot = slots.get(id)
    if (slot === undefined) return false
    if (slot.pendingAfter !== null) pendingCount--
    slots.delete(id)
    return true
  }

  /** Plans one deferred slot now. */
  function planSlot (slot: Slot): void {
    const after = slot.pendingAfter as number
    place(slot.entry, plan(slot.entry, after, pendingMemo))
  }

  function planPending (budgetMs: number, minCount = 0): number {
    const started = performance.now()
    let done = 0
    while (queueHead < queue.length) {
      if (pendingCount === 0 || (done >= minCount && performance.now() - started >= budgetMs)) break
      const item = queue[queueHead++]!
      const slot = slots.get(item.id)
      if (slot === undefined || slot.version !== item.version || slot.pendingAfter === null) continue
      planSlot(slot)
      done++
    }
    if (pendingCount === 0 || queueHead >= queue.length) {
      queue = []
      queueHead = 0
      pendingMemo.clear()
    } else if (queueHead > 4096 && queueHead * 2 > queue.length) {
      queue = queue.slice(queueHead)
      queueHead = 0
    }
    if (done > 0) compact()
    return pendingCount
  }

  function upsert (entry: PlanEntry, after: number): number | null {
    const at = plan(entry, after)
    place({ ...entry }, at)
    compact()
    return at
  }

  return {
    sync (entries, after, syncOpts = {}) {
      let added = 0
      let changed = 0
      const seen = new Set<string>()
      const memo = new Map<string, number | null>()
      for (const entry of entries) {
        seen.add(entry.id)
        const slot = slots.get(entry.id)
        if (slot !== undefined && slot.entry.schedule === entry.schedule && slot.entry.timezone === entry.timezone) continue
        if (slot === undefined) added++
        else changed++
        if (syncOpts.defer === true) defer({ ...entry }, after)
        else place({ ...entry }, plan(entry, after, memo))
      }
      let removed = 0
      for (const id of [...slots.keys()]) {
        if (!seen.has(id)) {
          drop(id)
          removed++
        }
      }
      compact()
      return { added, removed, changed }
    },
    planPending,
    get pending () {
      return pendingCount
    },
    upsert,
    remove (id) {
      const had = drop(id)
      compact()
      return had
    },
    takeDue (now, limit = Infinity) {
      const due: DueRun[] = []
      while (heap.length > 0 && heap[0]!.at <= now && due.length < limit) {
        const item = pop()!
        if (isLive(item)) due.push({ id: item.id, at: item.at })
      }
      const memo = new Map<string, number | null>()
      for (const run of due) {
        const slot = slots.get(run.id)!
        place(slot.entry, plan(slot.entry, now, memo))
      }
      compact()
      return due
    },
    nextRunOf (id) {
      const slot = slots.get(id)
      if (slot?.pendingAfter != null) planSlot(slot)
      return slots.get(id)?.at ?? null
    },
    peek () {
      while (heap.length > 0 && !isLive(heap[0]!)) pop()
      return heap[0]?.at ?? null
    },
    upcoming (limit) {
      planPending(Infinity)
      const runs: DueRun[] = []
      for (const slot of slots.values()) if (slot.at !== null) runs.push({ id: slot.entry.id, at: slot.at })
      return runs.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).slice(0, Math.max(0, limit))
    },
    get size () {
      return slots.size
    }
  }
}

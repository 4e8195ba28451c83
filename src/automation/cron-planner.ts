import type { Logger } from '../logger-types.ts'
import { nextRun, type PlanEntry } from './cron-plan.ts'

/**
 * Keeps the next run of every enabled job precomputed in a min-heap keyed by time, so a scheduler
 * tick costs O(k log n) for the k jobs that are due, not a cron evaluation per job. A job's next run
 * is recomputed only when it fired or its schedule/zone changed.
 */

export interface DueRun {
  id: string
  /** The planned instant (ms). Several missed runs of one job (suspend) collapse into one. */
  at: number
}

export interface CronPlanner {
  /** Replaces the planned set with `entries`; unchanged entries keep their next run. */
  sync: (entries: Iterable<PlanEntry>, after: number) => { added: number, removed: number, changed: number }
  /** Adds or replaces one entry; returns its next run (null: never, or invalid schedule). */
  upsert: (entry: PlanEntry, after: number) => number | null
  remove: (id: string) => boolean
  /** Removes and returns every run due at or before `now`, and plans each job's following run after `now`. */
  takeDue: (now: number) => DueRun[]
  nextRunOf: (id: string) => number | null
  /** The earliest planned run, or null. */
  peek: () => number | null
  /** The `limit` soonest planned runs, soonest first (for the status API). */
  upcoming: (limit: number) => DueRun[]
  readonly size: number
}

interface Slot {
  entry: PlanEntry
  at: number | null
  version: number
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
    const key = `${entry.schedule}\u0000${entry.timezone}`
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
    const slot: Slot = { entry, at, version: ++version }
    slots.set(entry.id, slot)
    if (at !== null) push({ at, id: entry.id, version: slot.version })
  }

  function upsert (entry: PlanEntry, after: number): number | null {
    const at = plan(entry, after)
    place({ ...entry }, at)
    compact()
    return at
  }

  return {
    sync (entries, after) {
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
        place({ ...entry }, plan(entry, after, memo))
      }
      let removed = 0
      for (const id of [...slots.keys()]) {
        if (!seen.has(id)) {
          slots.delete(id)
          removed++
        }
      }
      compact()
      return { added, removed, changed }
    },
    upsert,
    remove (id) {
      const had = slots.delete(id)
      compact()
      return had
    },
    takeDue (now) {
      const due: DueRun[] = []
      while (heap.length > 0 && heap[0]!.at <= now) {
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
      return slots.get(id)?.at ?? null
    },
    peek () {
      while (heap.length > 0 && !isLive(heap[0]!)) pop()
      return heap[0]?.at ?? null
    },
    upcoming (limit) {
      const runs: DueRun[] = []
      for (const slot of slots.values()) if (slot.at !== null) runs.push({ id: slot.entry.id, at: slot.at })
      return runs.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).slice(0, Math.max(0, limit))
    },
    get size () {
      return slots.size
    }
  }
}

/**
 * The one way work is marked started (ADR 9, "Nothing accepted is lost" in docs/architecture.md).
 *
 * Every CLI run is made on behalf of a claim: a Telegram update, a webhook delivery, an admin chat
 * message, a cron or heartbeat run. The runner spawns the CLI behind a gate (a shell that waits for
 * a go on its stdin), records the CLI's process group, then awaits `claim.started()`, and only then
 * lets the CLI exec; nothing else is awaited in between. For work from the durable inbox,
 * `started()` writes and syncs the entry's done mark, so a restart never replays work that reached
 * a CLI; work that never got there (queued, waiting for a run slot, refused at shutdown, or whose
 * process group or mark could not be written on a full disk) stays unfinished and is replayed.
 * When the inbox marks an entry finished is in src/store/inbox.ts (one place).
 *
 * Once the service begins to stop, the gate is shut: every `started()` from then on rejects with
 * `ClaimRefused`, so nothing is started only to be killed a moment later.
 */
export interface WorkClaim {
  /**
   * Records that the work reaches a CLI now. `first`, the runner's own record (the CLI's process
   * group), is written before the mark, on every call. Resolves once both are durable; the mark is
   * idempotent (a retry of the same run writes it once). Rejects with `ClaimRefused` when the
   * service is stopping or either record cannot be written: the CLI must then not start.
   */
  started: (first?: () => Promise<void>) => Promise<void>
  /**
   * Set by a source whose marks can be written as one (the inbox): the claim for all of `claims`
   * (this one among them), whose marks are one write that lands whole or not at all; undefined
   * when some of them are not its own. `allClaims` uses it.
   */
  readonly joinWith?: (claims: readonly WorkClaim[]) => WorkClaim | undefined
}

export class ClaimRefused extends Error {
  /** `shutdown`: the service is stopping; `storage`: the started mark could not be written. */
  readonly reason: 'shutdown' | 'storage'
  /** The work stays in the durable inbox and runs after the next start (set by the inbox). */
  replayed = false
  constructor (reason: 'shutdown' | 'storage', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ClaimRefused'
    this.reason = reason
  }
}

export interface ClaimGate {
  /**
   * A claim backed by `mark` (the inbox's durable done mark), or by nothing (an admin chat message,
   * a cron or heartbeat run: nothing of theirs is replayed, so only the gate is checked).
   */
  claim: (mark?: () => Promise<void>) => WorkClaim
  /**
   * Shutdown: from now on every claim refuses. Resolves once the marks already being written have
   * settled and the runs they let through had a turn to spawn (and so to be registered and killed).
   */
  shut: () => Promise<void>
  readonly isShut: boolean
  /** Aborted when the gate shuts: work that only makes sense while the service runs can drop out. */
  readonly shutSignal: AbortSignal
}

export function createClaimGate (): ClaimGate {
  let shut = false
  const shutting = new AbortController()
  const writing = new Set<Promise<unknown>>()
  const refusal = (): ClaimRefused => new ClaimRefused('shutdown', 'ductor is shutting down; the run was not started')

  return {
    claim (mark) {
      let marked: Promise<void> | undefined
      function markOnce (): Promise<void> {
        if (marked !== undefined) return marked
        if (mark === undefined) {
          marked = Promise.resolve()
          return marked
        }
        const p = mark().catch((err: unknown) => {
          marked = undefined // not recorded: a later try (or the next start's replay) may run it
          throw err instanceof ClaimRefused ? err : new ClaimRefused('storage', 'could not record that the run started', { cause: err })
        })
        marked = p
        writing.add(p)
        p.finally(() => writing.delete(p)).catch(() => {})
        return p
      }
      return {
        async started (first) {
          if (shut) throw refusal()
          if (first !== undefined) {
            try {
              await first()
            } catch (err) {
              throw err instanceof ClaimRefused ? err : new ClaimRefused('storage', 'could not record the CLI\'s process group', { cause: err })
            }
            if (shut) throw refusal()
          }
          await markOnce()
        }
      }
    },
    async shut () {
      shut = true
      shutting.abort(new Error('ductor is shutting down'))
      await Promise.allSettled([...writing])
      await new Promise((resolve) => setImmediate(resolve))
    },
    get isShut () { return shut },
    shutSignal: shutting.signal
  }
}

/**
 * One claim for several (an album: every item's update is marked before its one run starts). Claims
 * of the inbox are joined into one whose done marks are a single journal record, so a disk that
 * fills up cannot mark part of an album and leave the rest to be replayed alone. Otherwise the
 * runner's record is written once, and each claim sees its outcome (a failure refuses them all).
 */
export function allClaims (claims: readonly WorkClaim[]): WorkClaim {
  const joined = claims.length > 1 ? claims[0]?.joinWith?.(claims) : undefined
  if (joined !== undefined) return joined
  return {
    async started (first) {
      let recorded: Promise<void> | undefined
      const once = first === undefined ? undefined : async (): Promise<void> => { recorded ??= first(); await recorded }
      if (claims.length === 0) await once?.()
      await Promise.all(claims.map(async (c) => { await c.started(once) }))
    }
  }
}

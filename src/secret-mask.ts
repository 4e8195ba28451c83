/**
 * The live secrets of the service (bot token, admin token, Telegram webhook secret, hook bearer
 * tokens and signing secrets) and one matcher over them, used wherever text leaves the process:
 * log lines, and the agent's output on its way to Telegram, the admin API and the run history
 * (ADR 0007). The matcher is one precompiled regular expression, rebuilt only when the set changes
 * (a new hook, a rotated token); strings shorter than 8 characters are not secrets we can mask
 * without mangling ordinary text.
 */
export const SECRET_MASK = '[REDACTED]'

const MIN_LENGTH = 8

/**
 * Masks a stream of text deltas: a secret split over two deltas is caught because a tail that
 * could be the start of a secret is held back until the next delta (or `flush`) shows what it is.
 */
export interface StreamMasker {
  push: (delta: string) => string
  /** The held-back tail (masked); call when the stream ends or something else comes in between. */
  flush: () => string
}

export interface SecretMask {
  /** Adds a secret (ignored when shorter than 8 characters or known already). */
  add: (secret: string | null | undefined) => void
  /** `text` with every known secret replaced by `[REDACTED]`. */
  mask: (text: string) => string
  streamMasker: () => StreamMasker
  size: () => number
}

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export function createSecretMask (): SecretMask {
  const secrets = new Set<string>()
  let matcher: RegExp | null = null
  /** Sorted, for "is this tail the start of a secret" by binary search. */
  let sorted: string[] = []
  let longest = 0
  let dirty = false

  function rebuild (): void {
    dirty = false
    sorted = [...secrets].sort()
    longest = sorted.reduce((max, s) => Math.max(max, s.length), 0)
    // Longest first, so a secret that contains another is masked whole.
    const alternatives = [...secrets].sort((a, b) => b.length - a.length).map(escape)
    matcher = alternatives.length === 0 ? null : new RegExp(alternatives.join('|'), 'g')
  }

  function mask (text: string): string {
    if (dirty) rebuild()
    return matcher === null || text.length < MIN_LENGTH ? text : text.replace(matcher, SECRET_MASK)
  }

  /** Whether some secret starts with `tail`. */
  function startsSecret (tail: string): boolean {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((sorted[mid] as string) < tail) lo = mid + 1
      else hi = mid
    }
    return sorted[lo]?.startsWith(tail) === true
  }

  /** Length of the longest proper suffix of `text` that is the start of a secret. */
  function heldLength (text: string): number {
    for (let i = Math.max(0, text.length - longest + 1); i < text.length; i++) {
      if (startsSecret(text.slice(i))) return text.length - i
    }
    return 0
  }

  return {
    add (secret) {
      if (typeof secret !== 'string' || secret.length < MIN_LENGTH || secrets.has(secret)) return
      secrets.add(secret)
      dirty = true
    },
    mask,
    streamMasker () {
      let held = ''
      return {
        push (delta) {
          const text = held + delta
          if (dirty) rebuild()
          if (matcher === null) return text
          // Hold back the longest tail that could still grow into a secret (a complete one that
          // starts a longer one included), and any match that reaches into that tail.
          let cut = text.length - heldLength(text)
          if (cut < text.length) {
            for (const m of text.matchAll(matcher)) {
              if (m.index < cut && m.index + m[0].length > cut) { cut = m.index; break }
            }
          }
          held = text.slice(cut)
          return mask(text.slice(0, cut))
        },
        flush () {
          const out = mask(held)
          held = ''
          return out
        }
      }
    },
    size: () => secrets.size
  }
}

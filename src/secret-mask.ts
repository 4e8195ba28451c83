/**
 * The live secrets of the service (bot token, admin token, Telegram webhook secret, hook bearer
 * tokens and signing secrets) and one matcher over them, used wherever text leaves the process:
 * log lines, and the agent's output on its way to Telegram, the admin API and the run history
 * (ADR 0007). The matcher is one precompiled regular expression, rebuilt only when the set changes
 * (a new hook, a rotated token); strings shorter than 8 characters are not secrets we can mask
 * without mangling ordinary text.
 *
 * A secret counts as written when a reader could put it together: its characters in order with only
 * whitespace, Markdown markup (`*`, `_`, `~`, `` ` ``, a backslash escape) or the boundary between
 * two text blocks (a tool call in between, {@link BOUNDARY}) between them. So `abcd\nefgh`,
 * `abcd**efgh**` and `abcd\_efgh` are masked as well as `abcdefgh` (issue 19).
 */
export const SECRET_MASK = '[REDACTED]'

/**
 * Stands for "something else came in between" inside a masked stream (see {@link StreamMasker}
 * `boundary`); it never reaches a reader: the masking executor turns each one back into the event it
 * stands for, and it is removed from what the agent writes.
 */
export const BOUNDARY = '\u0000'

const MIN_LENGTH = 8

/** What may stand between two characters of a secret that a reader still reads as one. */
const SEPARATORS = [' ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '*', '_', '~', '`', '\\', BOUNDARY]

/** A character class of `chars`, each written as a \uXXXX escape. */
function charClass (chars: string[]): string {
  return `[${chars.map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}]`
}

/**
 * Masks a stream of text deltas: a secret split over two deltas is caught because a tail that
 * could be the start of a secret is held back until the next delta (or `flush`) shows what it is.
 */
export interface StreamMasker {
  /** The masked text that can go out now (may hold {@link BOUNDARY}s, see `boundary`). */
  push: (delta: string) => string
  /**
   * Something other than text comes now (a tool call, a status). Returns false when nothing is held
   * back: the caller passes its event on at once. Returns true when a tail is held: the caller keeps
   * its event and passes it on where a later `push` or `flush` returns a {@link BOUNDARY}, one per
   * `true`, in order, so a secret split by a tool call is masked and the order is kept.
   */
  boundary: () => boolean
  /** The held-back tail (masked, with its boundaries); call when the stream ends. */
  flush: () => string
}

export interface SecretMask {
  /** Adds a secret (ignored when shorter than 8 characters or known already). */
  add: (secret: string | null | undefined) => void
  /** `text` with every known secret replaced by `[REDACTED]`. */
  mask: (text: string) => string
  /**
   * `text` masked as the continuation of `before` (what was shown just before it): the part of
   * `text` that ends a secret begun in `before` is masked too. For a final reply that repeats the
   * last text block of a stream whose previous block ended with the start of a secret.
   */
  maskAfter: (before: string, text: string) => string
  streamMasker: () => StreamMasker
  size: () => number
}

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Separators between two characters of a secret, never `next` (so a match cannot backtrack into the run). */
function gap (next: string): string {
  return `${charClass(SEPARATORS.filter((c) => c !== next))}*`
}

/** `secret` as a pattern: its characters with separators allowed between them. */
function spelled (secret: string): string {
  const chars = [...secret]
  return chars.map((c, i) => (i === 0 ? '' : gap(c)) + escape(c)).join('')
}

/** A pattern for any non-empty start of `secret` (with separators), as nested optional groups. */
function started (secret: string): string {
  const chars = [...secret]
  let pattern = ''
  for (let i = chars.length - 1; i >= 1; i--) pattern = `(?:${gap(chars[i] as string)}${escape(chars[i] as string)}${pattern})?`
  return escape(chars[0] as string) + pattern
}

export function createSecretMask (): SecretMask {
  const secrets = new Set<string>()
  let matcher: RegExp | null = null
  /** The start of a secret, then only separators, up to the end of the text. */
  let startMatcher: RegExp | null = null
  let dirty = false

  function rebuild (): void {
    dirty = false
    // Longest first, so a secret that contains another is masked whole.
    const ordered = [...secrets].sort((a, b) => b.length - a.length)
    matcher = ordered.length === 0 ? null : new RegExp(ordered.map(spelled).join('|'), 'g')
    startMatcher = ordered.length === 0 ? null : new RegExp(`(?:${ordered.map(started).join('|')})${charClass(SEPARATORS)}*$`)
  }

  /** Replaces each secret, keeping the boundaries it spans (after the mask, in order). */
  function replace (text: string): string {
    return text.replace(matcher as RegExp, (m) => {
      const boundaries = m.split(BOUNDARY).length - 1
      return BOUNDARY.repeat(boundaries) + SECRET_MASK
    })
  }

  function mask (text: string): string {
    if (dirty) rebuild()
    return matcher === null || text.length < MIN_LENGTH ? text : replace(text)
  }

  /** Length of the longest tail of `text` that could still grow into a secret. */
  function heldLength (text: string): number {
    const m = (startMatcher as RegExp).exec(text)
    return m === null ? 0 : text.length - m.index
  }

  return {
    add (secret) {
      if (typeof secret !== 'string' || secret.length < MIN_LENGTH || secrets.has(secret)) return
      secrets.add(secret)
      dirty = true
    },
    mask,
    maskAfter (before, text) {
      if (dirty) rebuild()
      if (matcher === null || before === '') return mask(text)
      const joined = before + text
      for (const m of joined.matchAll(matcher)) {
        const end = m.index + m[0].length
        if (m.index < before.length && end > before.length) return SECRET_MASK + mask(joined.slice(end))
        if (m.index >= before.length) break
      }
      return mask(text)
    },
    streamMasker () {
      let held = ''
      return {
        push (delta) {
          const text = held + delta.replaceAll(BOUNDARY, '')
          if (dirty) rebuild()
          if (matcher === null) {
            held = ''
            return text
          }
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
        boundary () {
          if (held === '') return false
          held += BOUNDARY
          return true
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

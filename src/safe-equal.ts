import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto'

/** Random per process, never stored or shown: nobody outside can predict the digests it makes. */
const key = createSecretKey(randomBytes(32))

/**
 * Equality in time independent of where the inputs differ and of their lengths: both sides are
 * HMAC'd with a random key, and the equal-length digests go through `timingSafeEqual`.
 * Used for every secret comparison: admin token, Telegram secret, hook tokens and signatures.
 */
export function safeEqual (a: string | Buffer, b: string | Buffer): boolean {
  const da = createHmac('sha256', key).update(a).digest()
  const db = createHmac('sha256', key).update(b).digest()
  return timingSafeEqual(da, db)
}

/**
 * Equality of a signature a sender gave with the digest computed here, whose length is public (it
 * follows from the algorithm and the encoding, not from any secret): different lengths are unequal
 * at once, equal lengths are compared by `timingSafeEqual`, in time independent of where they differ.
 * Half the cost of `safeEqual`'s two keyed digests on every webhook delivery (ADR 0033). Never for
 * tokens, whose length is part of the secret.
 */
export function digestEqual (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

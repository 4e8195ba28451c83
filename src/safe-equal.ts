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

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Equality in time independent of where the inputs differ and of their lengths: both sides are
 * HMAC'd with a fresh random key, and the equal-length digests go through `timingSafeEqual`.
 * Used for every secret comparison: admin token, Telegram secret, hook tokens and signatures.
 */
export function safeEqual (a: string | Buffer, b: string | Buffer): boolean {
  const key = randomBytes(32)
  const da = createHmac('sha256', key).update(a).digest()
  const db = createHmac('sha256', key).update(b).digest()
  return timingSafeEqual(da, db)
}

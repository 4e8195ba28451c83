import type { Hook } from './hook-schema.ts'
import { type RequestHeaders, singleHeader } from './auth-common.ts'

/** Visible ASCII, bounded: ids end up in the journal, logs and the dedupe store. */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/

/**
 * The sender's id for this delivery, used to suppress duplicates (SPEC §9): the hook's
 * `dedupe_header` when configured and present, else `X-GitHub-Delivery`, else `webhook-id`
 * (Standard Webhooks). A value that is repeated, empty, too long or not visible ASCII is skipped.
 * `null` when there is none: the caller then makes a fresh id. Ids are only unique per sender, so
 * dedupe should key on (hook id, delivery id).
 */
export function deliveryIdFrom (hook: Pick<Hook, 'dedupe_header'>, headers: RequestHeaders): string | null {
  const names = [hook.dedupe_header, 'x-github-delivery', 'webhook-id']
  for (const name of names) {
    if (name === null || name === '') continue
    const value = singleHeader(headers, name)?.trim()
    if (value !== undefined && DELIVERY_ID.test(value)) return value
  }
  return null
}

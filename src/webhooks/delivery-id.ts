import { createHash } from 'node:crypto'
import type { Hook } from './hook-schema.ts'
import { type RequestHeaders, singleHeader } from './auth-common.ts'

/** Visible ASCII, bounded: ids end up in the journal, logs and the dedupe store. */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/

/** How long an identical body is a duplicate when the hook does not say: GitHub signs nothing else. */
const GITHUB_BODY_WINDOW_SECONDS = 24 * 60 * 60

/**
 * A dedupe key besides the delivery id, with how long it is remembered. `remember: false`: a
 * delivery matching it is a duplicate, but this delivery does not leave it behind (see githubScheme).
 */
export interface ReplayKey { key: string, ttlMs: number, remember?: boolean }

export interface DeliveryKeys {
  /** The sender's id for this delivery (answered as `delivery_id`), or null: the caller makes one. */
  deliveryId: string | null
  /**
   * Further keys that make a later request a duplicate of this one: the digest of the signed content
   * (schemes that sign a timestamp) and of the body (the hook's window). They never contain a space
   * in the hook id's place, so they cannot collide with a delivery id (visible ASCII, no space).
   */
  replayKeys: ReplayKey[]
  /** Slack's `X-Slack-Retry-Num`, for the log line (a retry is a duplicate when its event was seen). */
  retryNum?: string
}

type KeyHook = Pick<Hook, 'id' | 'auth_mode' | 'hmac_preset' | 'dedupe_header' | 'timestamp_tolerance_seconds' | 'dedupe_window_seconds'> & Partial<SchemeHook>
type SchemeHook = Pick<Hook, 'auth_mode' | 'hmac_preset' | 'hmac_header' | 'hmac_algorithm' | 'hmac_encoding' | 'hmac_sig_prefix' | 'hmac_sig_regex' | 'hmac_payload_prefix_regex'>

/**
 * Whether a generic HMAC hook (no `hmac_preset`) is set up exactly as GitHub signs: the Python
 * version's way to write a GitHub hook (`X-Hub-Signature-256`, sha256, hex, prefix `sha256=`, or the
 * older `X-Hub-Signature` with sha1 and `sha1=`), e.g. `gh-push` of a migrated home. Such a hook keeps
 * the generic check the Python version made (ADR 16: what it accepted is accepted), and gets GitHub's
 * replay protection (ADR 0045): `X-GitHub-Delivery` as the delivery id (as every generic hook), and the
 * body's digest for `dedupe_window_seconds` (24 h unless set). Unlike a `hmac_preset: "github"` hook,
 * the digest is left behind only by a delivery that carries `X-GitHub-Delivery` — every real GitHub
 * delivery does — so a replay of a GitHub delivery is a duplicate with the same, a new or no delivery
 * header, while a sender of its own that signs the same way but sends no such header (and may send one
 * body twice on purpose) is served as by the Python version. A `dedupe_window_seconds` the hook sets
 * applies to every delivery, as on any hook.
 */
export function githubScheme (hook: Partial<SchemeHook>): boolean {
  if (hook.auth_mode !== 'hmac' || hook.hmac_preset !== null) return false
  if ((hook.hmac_sig_regex ?? '') !== '' || (hook.hmac_payload_prefix_regex ?? '') !== '' || hook.hmac_encoding !== 'hex') return false
  const header = (hook.hmac_header ?? '').trim().toLowerCase()
  return (header === 'x-hub-signature-256' && hook.hmac_algorithm === 'sha256' && hook.hmac_sig_prefix === 'sha256=') ||
    (header === 'x-hub-signature' && hook.hmac_algorithm === 'sha1' && hook.hmac_sig_prefix === 'sha1=')
}

/**
 * What makes a delivery a duplicate, for each scheme the way its sender defines it (SPEC §9, issue 15):
 * - Standard Webhooks: `webhook-id` (it is signed);
 * - Stripe: the event's `id` in the signed body (Stripe's retries resend the same event);
 * - Slack: the Events API `event_id` in the signed body (a retry, `X-Slack-Retry-Num`, carries the same);
 * - GitHub: `X-GitHub-Delivery` (not signed), backed by the body's digest for `dedupe_window_seconds`
 *   (default 24 h), so a captured delivery sent again with a new or no delivery header is a duplicate;
 * - generic HMAC and bearer: the hook's `dedupe_header`, else `X-GitHub-Delivery`, else `webhook-id`
 *   (as before), and the body's digest when the hook sets `dedupe_window_seconds`; a generic HMAC hook
 *   set up exactly like GitHub's (githubScheme) has GitHub's 24 h body window by default.
 * Every scheme that signs a timestamp also remembers the digest of the exact signed content for twice
 * its tolerance: within the tolerance a replay is byte for byte the same request, whatever id it has.
 * Call only after the signature was verified (otherwise anyone could plant keys).
 */
export function deliveryKeys (hook: KeyHook, headers: RequestHeaders, body: Buffer, payload: Record<string, unknown>): DeliveryKeys {
  const replayKeys: ReplayKey[] = []
  const toleranceTtl = (2 * hook.timestamp_tolerance_seconds + 60) * 1000
  const signed = (parts: ReadonlyArray<string | Buffer>) => replayKeys.push({ key: `${hook.id} sig:${digest(parts)}`, ttlMs: toleranceTtl })
  let deliveryId: string | null
  let retryNum: string | undefined
  const preset = hook.auth_mode === 'hmac' ? hook.hmac_preset : null

  if (hook.auth_mode === 'standard') {
    deliveryId = headerId(headers, 'webhook-id')
    signed([headerValue(headers, 'webhook-id'), '.', headerValue(headers, 'webhook-timestamp'), '.', body])
  } else if (preset === 'stripe') {
    deliveryId = bodyId(payload['id'])
    const t = /(?:^|,)\s*t=([^,]*)/.exec(headerValue(headers, 'stripe-signature'))?.[1]?.trim() ?? ''
    signed([t, '.', body])
  } else if (preset === 'slack') {
    deliveryId = bodyId(payload['event_id'])
    signed(['v0:', headerValue(headers, 'x-slack-request-timestamp'), ':', body])
    const retry = singleHeader(headers, 'x-slack-retry-num')
    if (typeof retry === 'string' && /^\d{1,4}$/.test(retry)) retryNum = retry
  } else if (preset === 'github') {
    deliveryId = headerId(headers, 'x-github-delivery')
  } else {
    deliveryId = firstHeaderId(headers, [hook.dedupe_header, 'x-github-delivery', 'webhook-id'])
  }

  const github = preset === null && githubScheme(hook)
  const window = hook.dedupe_window_seconds ?? (preset === 'github' || github ? GITHUB_BODY_WINDOW_SECONDS : 0)
  if (window > 0) {
    // A GitHub-shaped generic hook on its default window: only a GitHub delivery leaves its digest (see githubScheme).
    const remember = !github || hook.dedupe_window_seconds !== null || headerId(headers, 'x-github-delivery') !== null
    replayKeys.push({ key: `${hook.id} body:${digest([body])}`, ttlMs: window * 1000, ...(!remember && { remember: false }) })
  }
  return { deliveryId, replayKeys, ...(retryNum !== undefined && { retryNum }) }
}

/**
 * The first usable id among the named headers (the compatible chain of bearer and generic HMAC hooks).
 * A value that is repeated, empty, too long or not visible ASCII is skipped.
 */
export function firstHeaderId (headers: RequestHeaders, names: ReadonlyArray<string | null>): string | null {
  for (const name of names) {
    if (name === null || name === '') continue
    const value = headerId(headers, name)
    if (value !== null) return value
  }
  return null
}

function headerId (headers: RequestHeaders, name: string): string | null {
  const value = singleHeader(headers, name)?.trim()
  return value !== undefined && DELIVERY_ID.test(value) ? value : null
}

function headerValue (headers: RequestHeaders, name: string): string {
  return singleHeader(headers, name) ?? ''
}

function bodyId (value: unknown): string | null {
  return typeof value === 'string' && DELIVERY_ID.test(value) ? value : null
}

function digest (parts: ReadonlyArray<string | Buffer>): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest('hex')
}

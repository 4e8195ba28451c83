import type { Hook } from './hook-schema.ts'
import { githubScheme } from './delivery-id.ts'

/** How a sender must authenticate to one hook: the header to send and how to fill it. Never a secret. */
export interface AuthHelp {
  /** `bearer`, `hmac` (with the preset when set, e.g. `hmac:github`) or `standard`. */
  scheme: string
  /** The header that carries the credential or signature. */
  header: string
  instructions: string
}

type HookAuthFields = Pick<Hook, 'auth_mode' | 'token' | 'hmac_preset' | 'hmac_header' | 'hmac_algorithm' | 'hmac_encoding' |
'hmac_sig_prefix' | 'hmac_sig_regex' | 'hmac_payload_prefix_regex' | 'timestamp_tolerance_seconds'>

/** Sentences for the admin API and the `ductor webhook` command (SPEC §9). Every body must be JSON. */
export function authHelp (hook: HookAuthFields): AuthHelp {
  const json = 'Send the body as JSON (Content-Type: application/json).'
  const tolerance = `The signed timestamp must be within ${hook.timestamp_tolerance_seconds} s of this server's clock.`
  switch (hook.auth_mode) {
    case 'bearer':
      return {
        scheme: 'bearer',
        header: 'Authorization',
        instructions: hook.token === ''
          ? `Send "Authorization: Bearer <webhooks.token>" (this hook has no token of its own, so the global webhooks.token from the config applies). ${json}`
          : `Send "Authorization: Bearer <token>" with this hook's token (shown only when the hook is created and when the token is rotated; rotate it if it is lost). ${json}`
      }
    case 'standard':
      return {
        scheme: 'standard',
        header: 'webhook-signature',
        instructions: 'Standard Webhooks (standardwebhooks.com): send webhook-id, webhook-timestamp (unix seconds) and ' +
          '"webhook-signature: v1,<base64 HMAC-SHA256 of \'<webhook-id>.<webhook-timestamp>.<raw body>\'>", keyed with the ' +
          `base64-decoded part of the whsec_ secret. ${tolerance} A repeated webhook-id is accepted once. ${json}`
      }
    case 'hmac':
      switch (hook.hmac_preset) {
        case 'github':
          return {
            scheme: 'hmac:github',
            header: 'X-Hub-Signature-256',
            instructions: 'In the GitHub webhook settings, set the Payload URL to the endpoint URL, Content type to application/json, ' +
              'and Secret to this hook\'s hmac_secret. GitHub signs each delivery with "X-Hub-Signature-256: sha256=<hex>"; ' +
              'a repeated X-GitHub-Delivery, or the same body again within dedupe_window_seconds (24 h unless set), is answered as a duplicate.'
          }
        case 'stripe':
          return {
            scheme: 'hmac:stripe',
            header: 'Stripe-Signature',
            instructions: 'In the Stripe dashboard, add the endpoint URL as a webhook endpoint and use its signing secret (whsec_…) ' +
              `as this hook's hmac_secret. Stripe signs '<t>.<raw body>' in "Stripe-Signature: t=<ts>,v1=<hex>". ${tolerance} ` +
              'An event id (the body\'s "id") seen before is answered as a duplicate, so Stripe\'s retries run once.'
          }
        case 'slack':
          return {
            scheme: 'hmac:slack',
            header: 'X-Slack-Signature',
            instructions: 'Use the Slack app\'s Signing Secret as this hook\'s hmac_secret. Slack signs \'v0:<X-Slack-Request-Timestamp>:<raw body>\' ' +
              `in "X-Slack-Signature: v0=<hex>". ${tolerance} Slack must send JSON (e.g. Events API), not form-encoded bodies. ` +
              'An event_id seen before (Slack\'s retries, X-Slack-Retry-Num) is answered as a duplicate.'
          }
        case null: {
          const alg = hook.hmac_algorithm.toUpperCase()
          const signed = hook.hmac_payload_prefix_regex === ''
            ? 'the raw body'
            : '\'<group 1 of hmac_payload_prefix_regex matched on the header>.<raw body>\''
          const format = hook.hmac_sig_regex === ''
            ? `"${hook.hmac_header}: ${hook.hmac_sig_prefix}<${hook.hmac_encoding} signature>"`
            : `the header ${hook.hmac_header}, where group 1 of hmac_sig_regex is the ${hook.hmac_encoding} signature`
          const github = githubScheme(hook)
            ? 'This is how GitHub signs: in the GitHub webhook settings, set the Payload URL to the endpoint URL, Content type to application/json and Secret to this hook\'s hmac_secret. '
            : ''
          return {
            scheme: 'hmac',
            header: hook.hmac_header,
            instructions: `${github}Sign ${signed} with HMAC-${alg} keyed with this hook's hmac_secret and send it in ${format}. ${json}`
          }
        }
      }
  }
  return { scheme: hook.auth_mode, header: '', instructions: json }
}

/** What answers a delivery to one hook as a duplicate (SPEC §9, ADR 0045), for the admin API and `ductor webhook show`. */
export interface ReplayHelp {
  /** Where the delivery id is read (a repeated one is a duplicate). */
  delivery_id: string
  /** How long an identical body is a duplicate; 0 = not checked. */
  body_window_seconds: number
  /** Which deliveries leave their body's digest behind: `all`, `github` (those with X-GitHub-Delivery), `none`. */
  body_kept_from: 'all' | 'github' | 'none'
  /** The hook signs exactly like GitHub (`hmac_preset: "github"`, or the generic knobs set as GitHub signs). */
  github_scheme: boolean
  description: string
}

const PRESET_DELIVERY_IDS = { stripe: 'the body\'s "id"', slack: 'the body\'s "event_id"', github: 'X-GitHub-Delivery' } as const

type ReplayFields = HookAuthFields & Pick<Hook, 'dedupe_header' | 'dedupe_window_seconds'>

export function replayHelp (hook: ReplayFields): ReplayHelp {
  const preset = hook.auth_mode === 'hmac' ? hook.hmac_preset : null
  const likeGithub = preset === null && githubScheme(hook)
  const github = preset === 'github' || likeGithub
  const window = hook.dedupe_window_seconds ?? (github ? 24 * 60 * 60 : 0)
  const keptFrom = window === 0 ? 'none' : likeGithub && hook.dedupe_window_seconds === null ? 'github' : 'all'
  const signed = hook.auth_mode === 'standard' || preset === 'stripe' || preset === 'slack'
    ? ` A replay of the signed content within ${2 * hook.timestamp_tolerance_seconds + 60} s is a duplicate whatever its id.`
    : ''
  const own = hook.dedupe_header !== null && hook.dedupe_header !== '' ? `${hook.dedupe_header}, else ` : ''
  const deliveryId = hook.auth_mode === 'standard'
    ? 'webhook-id'
    : preset === null ? `${own}X-GitHub-Delivery, else webhook-id` : PRESET_DELIVERY_IDS[preset]
  const body = keptFrom === 'none'
    ? ' The same body again is not checked (set dedupe_window_seconds to answer it as a duplicate).'
    : keptFrom === 'github'
      ? ` The body of a delivery that carried X-GitHub-Delivery (every delivery from GitHub does) is kept for ${window} s: the same body again within that time is a duplicate, with the same, a new or no X-GitHub-Delivery. A delivery without that header (a sender other than GitHub) leaves nothing behind and is served as before; set dedupe_window_seconds to cover those too.`
      : ` The same body again within ${window} s is a duplicate, whatever its delivery id.`
  const intro = likeGithub ? `Signed like GitHub (${hook.hmac_header}, ${hook.hmac_sig_prefix}<hex>): GitHub's replay protection applies. ` : ''
  return {
    delivery_id: deliveryId,
    body_window_seconds: window,
    body_kept_from: keptFrom,
    github_scheme: github,
    description: `${intro}A repeated delivery id (${deliveryId}) is a duplicate.${signed}${body}`
  }
}

import { details } from './flags.ts'
import { halfWindowText, hh, permissionText, providerText } from './task-options.ts'
import { unusedSettings, type RunSettings } from './task-fit.ts'

/** A webhook as the admin API shows it (`GET /api/webhooks/:id`): secrets only as `*_set`; its run settings as a cron job's. */
export interface Hook extends RunSettings {
  mode: string
  id: string
  title: string
  description: string
  prompt_template: string
  enabled: boolean
  task_folder: string | null
  auth_mode: string
  hmac_preset: string | null
  token_set: boolean
  hmac_secret_set: boolean
  trigger_count: number
  last_triggered_at: string | null
  last_error: string | null
  cli_parameters: string[]
  dedupe_header: string | null
  dedupe_window_seconds: number | null
  timestamp_tolerance_seconds: number
  permission_mode?: string | null
}
export interface HookView { hook: Hook, endpoint_url: string, auth: { scheme: string, header: string, instructions: string }, replay?: { description: string }, ingress_enabled: boolean, token?: string }

/** A hook's own quiet hours in words (the API resolves a cron job's window, not a hook's). */
function quietText (start: number | null, end: number | null): string {
  if (start === null && end === null) return 'none of its own (a cron-wide cron.quiet_start/quiet_end applies when set)'
  if (start === null || end === null) return halfWindowText(start, end)
  if (start === end) return 'none (start = end: any hour, even with a cron-wide window)'
  return `${hh(start)}-${hh(end)} (skipped in this window)`
}

/** `ductor webhook show` (and the answer of add/edit/rotate): every setting, never a secret (ADR 0005). */
export function describeHook (view: HookView): string {
  const { hook } = view
  const signed = hook.auth_mode !== 'bearer'
  const task: Array<[string, unknown]> = hook.mode === 'cron_task'
    ? [
        ['task folder', hook.task_folder === null ? null : `workspace/cron_tasks/${hook.task_folder}/`],
        ['provider', providerText(hook.provider, hook.model, hook.reasoning_effort)],
        ['cli params', hook.cli_parameters],
        ['quiet hours', quietText(hook.quiet_start, hook.quiet_end)],
        ['dependency', hook.dependency]
      ]
    : []
  const unused = unusedSettings(hook).map(({ options, why }): [string, unknown] => ['not used', `${options.join(' ')}: ${why}`])
  let text = `${hook.id}: ${hook.title}\n` + details([
    ['url', view.endpoint_url],
    ['mode', hook.mode],
    ['enabled', hook.enabled ? 'yes' : 'no'],
    ['description', hook.description],
    ['auth', `${view.auth.scheme} (header ${view.auth.header})`],
    ...(view.token !== undefined ? [['token', view.token] as [string, unknown]] : []),
    ...(hook.auth_mode === 'bearer' && !hook.token_set ? [['token', 'the global webhooks.token (none of its own)'] as [string, unknown]] : []),
    ...(signed ? [['tolerance', `${hook.timestamp_tolerance_seconds} s (for a signed timestamp)`] as [string, unknown]] : []),
    // Deliveries' own ids are used without settings (auth help says which); these rows show what is set.
    ...(hook.dedupe_header !== null ? [['dedupe header', hook.dedupe_header] as [string, unknown]] : []),
    ...(hook.dedupe_window_seconds !== null ? [['dedupe window', hook.dedupe_window_seconds === 0 ? 'off' : `${hook.dedupe_window_seconds} s (the same body again is a duplicate)`] as [string, unknown]] : []),
    ['template', hook.prompt_template],
    ...task,
    ...unused,
    ['permissions', permissionText(hook.permission_mode ?? null)],
    ['triggered', `${hook.trigger_count} times${hook.last_triggered_at === null ? '' : `, last ${hook.last_triggered_at}`}`],
    ['last error', hook.last_error]
  ])
  text += `\nHow to send: ${view.auth.instructions}\n`
  if (view.replay !== undefined) text += `Replays: ${view.replay.description}\n`
  if (view.token !== undefined) text += 'The token is shown only now; keep it private (`ductor webhook rotate` replaces it).\n'
  if (hook.auth_mode === 'bearer') {
    const token = view.token ?? (hook.token_set ? '<token>' : '<webhooks.token>')
    text += `Example: curl -X POST ${view.endpoint_url} -H 'Authorization: Bearer ${token}' -H 'Content-Type: application/json' -d '{"message":"hello"}'\n`
  }
  if (!view.ingress_enabled) text += 'Note: webhooks are switched off (webhooks.enabled is false): deliveries are refused (403) until you run: ductor webhook enable\n'
  return text
}

/** Options for signed deliveries, by the field each sends. */
const SIGNING: Array<[option: string, field: string]> = [['--secret', 'hmac_secret'], ['--preset', 'hmac_preset'], ['--tolerance', 'timestamp_tolerance_seconds']]
/** The generic hmac options, which a preset (or the Standard Webhooks scheme) decides instead. */
const GENERIC: Array<[option: string, field: string]> = [['--header', 'hmac_header'], ['--algorithm', 'hmac_algorithm'], ['--encoding', 'hmac_encoding'],
  ['--sig-prefix', 'hmac_sig_prefix'], ['--sig-regex', 'hmac_sig_regex'], ['--payload-prefix-regex', 'hmac_payload_prefix_regex']]

/**
 * Auth options given that the hook's auth mode does not use (ADR 0042): kept, and used again if the
 * mode changes, so a note, not a refusal. `sent`: the request body's fields.
 */
export function authNotes (hook: Pick<Hook, 'auth_mode' | 'hmac_preset'>, sent: readonly string[]): string[] {
  const given = (options: Array<[string, string]>): string[] => options.filter(([, field]) => sent.includes(field)).map(([option]) => option)
  const note = (options: string[], why: string): string[] => options.length === 0 ? [] : [`${options.join(', ')} ${options.length === 1 ? 'does' : 'do'} nothing for this hook: ${why}`]
  if (hook.auth_mode === 'bearer') {
    return note([...given(SIGNING), ...given(GENERIC)], 'it authenticates with a bearer token; signing options apply with --auth hmac or --auth standard')
  }
  const token = note(given([['--token', 'token']]), `it authenticates by signature (${hook.auth_mode}); a token applies with --auth bearer`)
  if (hook.auth_mode === 'standard') return [...token, ...note([...given([['--preset', 'hmac_preset']]), ...given(GENERIC)], 'Standard Webhooks fixes the header, algorithm and encoding')]
  return [...token, ...note(hook.hmac_preset === null ? [] : given(GENERIC), `the ${hook.hmac_preset ?? ''} preset fixes the header and the signature format`)]
}

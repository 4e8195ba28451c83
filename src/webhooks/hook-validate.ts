import type { Hook } from './hook-schema.ts'
import { compileConfigRegex } from './config-regex.ts'
import { decodeStandardSecret } from './auth-standard.ts'

/** Ids of new hooks: they appear in URLs (`/hooks/:hookId`) and file names. */
export const HOOK_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Checks what the schema cannot: that a hook is usable as configured. Run on create and update
 * (not on load, so that files written by older versions still load). Returns human sentences that
 * name the field and what is allowed; never a secret's value.
 */
export function hookConfigProblems (hook: Hook): string[] {
  const problems: string[] = []
  if (hook.title.trim() === '') problems.push('title must not be empty')
  if (hook.prompt_template.trim() === '') problems.push('prompt_template must not be empty')
  if (hook.mode === 'cron_task') {
    if (hook.task_folder === null || hook.task_folder.trim() === '') {
      problems.push('task_folder is required when mode is "cron_task"')
    }
  }
  if (hook.task_folder !== null && hook.task_folder !== '' && !isSafeFolderName(hook.task_folder)) {
    problems.push('task_folder must be a single folder name (no "/", "\\", "..", or control characters)')
  }
  if (hook.auth_mode === 'hmac') {
    if (hook.hmac_secret === '') problems.push('hmac_secret is required when auth_mode is "hmac"')
    if (hook.hmac_preset === null) {
      if (!HEADER_NAME.test(hook.hmac_header)) {
        problems.push('hmac_header must be a header name (e.g. "X-Hub-Signature-256") when auth_mode is "hmac" and no hmac_preset is set')
      }
      for (const field of ['hmac_sig_regex', 'hmac_payload_prefix_regex'] as const) {
        if (hook[field] !== '' && compileConfigRegex(hook[field]) === null) {
          problems.push(`${field} is not a valid regular expression`)
        }
      }
    }
  }
  if (hook.auth_mode === 'standard' && decodeStandardSecret(hook.hmac_secret) === null) {
    problems.push('hmac_secret must be a Standard Webhooks secret ("whsec_" followed by base64) when auth_mode is "standard"')
  }
  if (hook.dedupe_header !== null && !HEADER_NAME.test(hook.dedupe_header)) {
    problems.push('dedupe_header must be a header name (e.g. "X-Request-Id") or null')
  }
  return problems
}

function isSafeFolderName (name: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) return false
  return name !== '.' && name !== '..' && name.trim() === name
}

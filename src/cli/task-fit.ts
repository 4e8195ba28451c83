import { providerOfModel } from '../models.ts'
import type { CliIo } from './io.ts'

/**
 * Run settings a cron job or webhook holds that its runs never use (ADR 0042): a wake hook runs in
 * the chat's own session (the chat's provider and model, at any hour, no dependency queue), and a
 * reasoning effort is for Codex only. The service keeps them (they apply again once the hook is a
 * cron_task or the provider is Codex); `add`/`edit` warn when an invocation touches them, `show`
 * lists them.
 */

export interface RunSettings {
  mode?: string
  provider: string | null
  model: string | null
  reasoning_effort: string | null
  cli_parameters: readonly string[]
  quiet_start: number | null
  quiet_end: number | null
  dependency: string | null
}

/** Option → the field it sets, for the run settings that may go unused. */
const OPTIONS: Array<[option: string, key: keyof RunSettings]> = [
  ['--provider', 'provider'],
  ['--model', 'model'],
  ['--reasoning-effort', 'reasoning_effort'],
  ['--cli-param', 'cli_parameters'],
  ['--quiet-start', 'quiet_start'],
  ['--quiet-end', 'quiet_end'],
  ['--dependency', 'dependency']
]

/** Options that only a cron_task hook uses, with the body field each sends. */
const TASK_OPTIONS: Array<[option: string, field: string]> = [['--task-folder', 'task_folder'], ['--task', 'task_description']]

const WAKE = 'a wake hook runs in the chat\'s own session (the chat\'s provider and model, at any hour, no task folder); these apply only with --mode cron_task'

export interface Unused {
  /** The options whose settings are not used, e.g. `--provider`, `--model`. */
  options: string[]
  why: string
}

const isSet = (value: unknown): boolean => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0)

/** The provider a record's runs use when it names one (itself, or through its model), else null (the global one). */
function ownProvider (record: RunSettings): string | null {
  return record.provider ?? (record.model === null ? null : providerOfModel(record.model))
}

/** What in `record` its runs do not use, and why; [] when everything set applies. */
export function unusedSettings (record: RunSettings): Unused[] {
  if (record.mode === 'wake') {
    const options = OPTIONS.filter(([, key]) => isSet(record[key])).map(([option]) => option)
    return options.length === 0
      ? []
      : [{ options, why: WAKE }]
  }
  if (record.reasoning_effort !== null && ownProvider(record) === 'claude') {
    return [{ options: ['--reasoning-effort'], why: 'it is for Codex only, and its runs use Claude' }]
  }
  return []
}

/**
 * After `add`/`edit`: a note on stderr for the settings the record holds but never uses, when this
 * invocation touched one of them or what decides it (`sent`: the request body's fields). The command
 * still succeeds, so scripts keep working; `--task-folder`/`--task` on a wake hook are named too.
 */
export function warnUnused (io: CliIo, record: RunSettings, sent: readonly string[]): void {
  const deciding = new Set<string>(['mode', ...OPTIONS.map(([, key]) => key)])
  const task = record.mode === 'wake' ? TASK_OPTIONS.filter(([, field]) => sent.includes(field)).map(([option]) => option) : []
  if (!sent.some((field) => deciding.has(field)) && task.length === 0) return
  const found = unusedSettings(record)
  if (task.length > 0 && found.length === 0) found.push({ options: [], why: WAKE })
  for (const { options, why } of found) {
    const all = why === WAKE ? [...options, ...task] : options
    io.stderr.write(`ductor: note: ${all.join(', ')} ${all.length === 1 ? 'does' : 'do'} nothing for this ${record.mode === undefined ? 'job' : 'hook'}: ${why}\n`)
  }
}

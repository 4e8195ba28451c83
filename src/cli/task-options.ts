import type { Command } from 'commander'
import { asOptions, connectApi } from './api-client.ts'
import { collectValues, oneOf, parseBool, parseHour, parseNullable } from './flags.ts'
import type { CliIo } from './io.ts'
import { printResult } from './output.ts'
import { PERMISSION_MODES } from '../config-schema.ts'
import { providerOfModel } from '../models.ts'
import { warnUnused, type RunSettings } from './task-fit.ts'

/**
 * What `ductor cron` and `ductor webhook` share: the settings of the run a cron job (or a cron_task
 * webhook) makes — provider, model, reasoning effort, CLI parameters, quiet hours, dependency,
 * permission mode — and the subcommands that differ only by what they manage (`add`, `show`,
 * `edit`). Each command file keeps its own fields, texts and the subcommands that are its own.
 */

export type Opts = Record<string, unknown> & { json?: boolean }

/** Option (commander's camelCase) → API field, for the run settings both take. */
export const RUN_FIELDS = {
  provider: 'provider',
  model: 'model',
  reasoningEffort: 'reasoning_effort',
  cliParam: 'cli_parameters',
  quietStart: 'quiet_start',
  quietEnd: 'quiet_end',
  dependency: 'dependency',
  permissionMode: 'permission_mode'
}

/**
 * The request body's run settings: `--quiet-start none` (or `--quiet-end none`) alone clears the whole
 * window, since the service refuses half a window (ADR 0042) and "none" promises a cleared one.
 */
export function withWholeWindow (body: Record<string, unknown>): Record<string, unknown> {
  if (body['quiet_start'] === null && !('quiet_end' in body)) body['quiet_end'] = null
  if (body['quiet_end'] === null && !('quiet_start' in body)) body['quiet_start'] = null
  return body
}

/** How the run options' help speaks of what owns them. */
export interface RunWording {
  /** Put before a setting that applies only in one mode: `cron_task` (a webhook); '' for a cron job. */
  scope: string
  /** `job`, `hook`. */
  owner: string
  /** What one dependency key keeps from running at once: `jobs`, `tasks`. */
  peers: string
  /** After `"none" = the global one` in `--permission-mode`'s help. */
  permissionNote?: string
}

/** `--provider` … `--permission-mode` and `--json`: the last options of `add` and `edit`. */
export function runOptions (cmd: Command, w: RunWording): Command {
  const scoped = (text: string): string => w.scope === '' ? text : `${w.scope}: ${text}`
  const forOwner = w.scope === '' ? ` for this ${w.owner}` : ''
  return cmd
    .option('--provider <name>', scoped('claude or codex ("none" = the global one)'), oneOf(['claude', 'codex'], true))
    .option('--model <name>', `${scoped('model')}${forOwner} ("none" = the global one)`, parseNullable)
    .option('--reasoning-effort <level>', `${w.scope === '' ? '' : `${w.scope}, `}Codex only: low, medium, high or xhigh`, oneOf(['low', 'medium', 'high', 'xhigh'], true))
    .option('--cli-param <arg>', `${scoped('extra CLI argument')}${forOwner} (repeat for more; "none" to clear)`, collectValues)
    .option('--quiet-start <hour>', scoped('no runs from this hour (0-23; with --quiet-end; "none" clears both)'), parseHour)
    .option('--quiet-end <hour>', '… until this hour (0-23, not included; "none" clears both)', parseHour)
    .option('--dependency <key>', scoped(`${w.peers} sharing this key never run at once ("none" to clear)`), parseNullable)
    .option('--permission-mode <mode>', `ask = risky tools ask the chats the ${w.owner} reports to first (docs/approvals.md); ${PERMISSION_MODES.filter((m) => m !== 'ask').join(', ')}; "none" = the global one${w.permissionNote ?? ''}`, oneOf(PERMISSION_MODES, true))
    .option(...JSON_OPTION)
}

/** `.option(...JSON_OPTION)`: every subcommand can print the API's own answer. */
export const JSON_OPTION = ['--json', 'print the API\'s answer as JSON'] as const

/** A job's or hook's `permission_mode` in words. */
export function permissionText (mode: string | null): string {
  if (mode === null) return 'the global permission_mode'
  return mode === 'ask' ? 'ask (risky tools ask the chats it reports to first)' : mode
}

/** `codex gpt-5, reasoning effort high`, or `default` for the global provider. */
export function providerText (provider: string | null, model: string | null, reasoning: string | null = null): string {
  // A model alone names its provider (`sonnet`: Claude), as the runs resolve it (src/automation/overrides.ts).
  const named = provider ?? (model === null ? 'default' : providerOfModel(model) ?? 'default provider')
  return [named, model].filter((v) => v !== null).join(' ') + (reasoning === null ? '' : `, reasoning effort ${reasoning}`)
}

export const hh = (hour: number): string => `${String(hour).padStart(2, '0')}:00`

/**
 * One bound of a quiet window without the other (a hand edit, or a file of the Python version; the
 * API refuses it, ADR 0042): the missing bound comes from the cron-wide window, else there is none.
 */
export function halfWindowText (start: number | null, end: number | null): string {
  const [set, missing] = start !== null ? [`quiet_start ${start}`, 'quiet_end'] : [`quiet_end ${String(end)}`, 'quiet_start']
  return `${set} without ${missing}: its ${missing} comes from cron.${missing} in config.json, else no window (set both: --quiet-start and --quiet-end)`
}

/** Calls `check` every 250 ms until it answers something. */
export async function pollUntil<T> (check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const found = await check()
    if (found !== undefined) return found
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** A kind of record the API manages under one path (`/cron`, `/webhooks`), as `add`, `show` and `edit` see it. */
export interface TaskRecords<V> {
  /** Its name in answers: `Created cron job …`. */
  noun: string
  /** The collection's API path; a record is `<path>/<id>`. */
  path: string
  /** The ids the API can address (the route's own `params` pattern); any other id names no record. */
  idPattern: RegExp
  /** The command that lists them, named when an id names none: `ductor cron list`. */
  list: string
  /** Help of the `<id>` argument. */
  idHelp: string
  /** The options `add` and `edit` share. */
  options: (cmd: Command) => Command
  describe: (view: V) => string
  /** Option (commander's camelCase) → API field: the service's messages name the option instead. */
  fields: Record<string, string>
  /** The run settings of the record shown, for the note on settings it never uses (src/cli/task-fit.ts). */
  runSettings: (view: V) => RunSettings
  /** Other notes on what the request set but the record does not use (`sent`: the body's fields). */
  notes?: (view: V, sent: readonly string[]) => string[]
}

/**
 * `<path>/<id>`. An id the route cannot address is answered here as the service would answer an
 * unknown one: "." and ".." are path steps to every URL parser (%2E too), so the request would reach
 * another route ("no route GET /api/"), and "" no record at all.
 */
export function recordPath (records: { path: string, idPattern: RegExp, noun: string, list: string }, id: string): string {
  if (id === '.' || id === '..' || !records.idPattern.test(id)) throw new Error(`no ${records.noun} "${id}"; list them with ${records.list}`)
  return `${records.path}/${encodeURIComponent(id)}`
}

/** The fields a request body sets (a null clears, and clearing is never worth a note). */
const setFields = (body: Record<string, unknown>): string[] => Object.keys(body).filter((key) => body[key] !== null)

export interface AddSpec {
  description: string
  idHelp: string
  /** Options `add` has and `edit` has not. */
  extra?: (cmd: Command) => Command
  /** The request body from the options (id, title and `--disabled` are added); throws on what is missing. */
  body: (opts: Opts) => Record<string, unknown>
}

/** `add --id <id> [--disabled]`: creates the record (its title defaults to its id) and shows it. */
export function addCommand<V> (parent: Command, io: CliIo, records: TaskRecords<V>, spec: AddSpec): Command {
  const cmd = records.options(parent.command('add'))
    .description(spec.description)
    .requiredOption('--id <id>', spec.idHelp)
  return (spec.extra?.(cmd) ?? cmd)
    .option('--disabled', 'create it switched off')
    .action(async (opts: Opts) => {
      const body = { id: opts['id'], title: opts['id'], ...spec.body(opts), ...(opts['disabled'] === true ? { enabled: false } : {}) }
      const api = await connectApi(io.env)
      const view = await asOptions(records.fields, async () => await api.request<V>('POST', records.path, body))
      printResult(io, opts, view, () => `Created ${records.noun} ${records.describe(view)}`)
      warnUnused(io, records.runSettings(view), Object.keys(body))
      for (const note of records.notes?.(view, setFields(body)) ?? []) io.stderr.write(`ductor: note: ${note}\n`)
    })
}

/** `show <id>`. */
export function showCommand<V> (parent: Command, io: CliIo, records: TaskRecords<V>, description: string): Command {
  return parent.command('show')
    .description(description)
    .argument('<id>', records.idHelp)
    .option(...JSON_OPTION)
    .action(async (id: string, opts: Opts) => {
      const view = await (await connectApi(io.env)).request<V>('GET', recordPath(records, id))
      printResult(io, opts, view, () => records.describe(view))
    })
}

export interface EditSpec {
  description: string
  /** An option to name when none was given: `--enabled false`. */
  example: string
  body: (opts: Opts) => Record<string, unknown>
}

/** `edit <id> [options]`: only the options given change; none at all is an error. */
export function editCommand<V> (parent: Command, io: CliIo, records: TaskRecords<V>, spec: EditSpec): Command {
  return records.options(parent.command('edit'))
    .description(spec.description)
    .argument('<id>', records.idHelp)
    .option('--enabled <bool>', 'true or false', parseBool)
    .action(async (id: string, opts: Opts) => {
      const body = spec.body(opts)
      if (Object.keys(body).length === 0) throw new Error(`nothing to change: give at least one option, e.g. ${spec.example} (see ductor ${parent.name()} edit --help)`)
      const at = recordPath(records, id)
      const api = await connectApi(io.env)
      const view = await asOptions(records.fields, async () => await api.request<V>('PATCH', at, body))
      printResult(io, opts, view, () => `Updated ${records.noun} ${records.describe(view)}`)
      warnUnused(io, records.runSettings(view), Object.keys(body))
      for (const note of records.notes?.(view, setFields(body)) ?? []) io.stderr.write(`ductor: note: ${note}\n`)
    })
}

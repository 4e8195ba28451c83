import { Command, InvalidArgumentError } from 'commander'
import { readFileSync } from 'node:fs'
import { readServiceInfo } from '../home/service-info.ts'
import { resolvePaths } from '../home/paths.ts'
import { connectApi, type ApiClient } from './api-client.ts'
import { printResult, table, userZone, localTime } from './output.ts'
import { NONE, type None, oneOf, parseNullable, pickFields } from './flags.ts'
import type { CliIo } from './io.ts'
import { authNotes, describeHook, type HookView } from './webhook-view.ts'
import { addCommand, editCommand, JSON_OPTION, pollUntil, recordPath, RUN_FIELDS, runOptions, showCommand, withWholeWindow, type Opts, type TaskRecords } from './task-options.ts'

/**
 * `ductor webhook add|list|show|edit|remove|rotate|test`: thin clients of `/api/webhooks` (SPEC §9,
 * §10), with the flags the agent's tool doc (templates/workspace/tools/webhooks.md) names. Tokens
 * appear only in the answers of `add` and `rotate` (ADR 0005); `--json` prints the API's answer.
 */

interface Run { id: string, status: string, error: string | null }

/** Option name (commander's camelCase) → API field (webhooks.json). */
const WEBHOOK_FIELDS = {
  title: 'title',
  description: 'description',
  mode: 'mode',
  template: 'prompt_template',
  enabled: 'enabled',
  auth: 'auth_mode',
  token: 'token',
  secret: 'hmac_secret',
  preset: 'hmac_preset',
  header: 'hmac_header',
  algorithm: 'hmac_algorithm',
  encoding: 'hmac_encoding',
  sigPrefix: 'hmac_sig_prefix',
  sigRegex: 'hmac_sig_regex',
  payloadPrefixRegex: 'hmac_payload_prefix_regex',
  dedupeHeader: 'dedupe_header',
  tolerance: 'timestamp_tolerance_seconds',
  dedupeWindow: 'dedupe_window_seconds',
  taskFolder: 'task_folder',
  task: 'task_description',
  ...RUN_FIELDS
}

function parseWindow (value: string): number | None {
  if (value === 'default') return NONE
  if (!/^\d{1,6}$/.test(value) || Number(value) > 604800) throw new InvalidArgumentError('use a number of seconds from 0 to 604800, or "default"')
  return Number(value)
}

function parseSeconds (value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > 604800) throw new InvalidArgumentError('use a number of seconds from 1 to 604800')
  return Number(value)
}

/** The options `add` and `edit` share. */
function hookOptions (cmd: Command): Command {
  cmd
    .option('--mode <mode>', 'wake (into this chat, with full context) or cron_task (isolated run in a task folder)', oneOf(['wake', 'cron_task']))
    .option('--title <text>', 'the name results are sent under')
    .option('--description <text>', 'one line saying what the hook is for')
    .option('--template <text>', 'the prompt, with {{field.path}} placeholders filled from the JSON payload')
    .option('--auth <mode>', 'bearer (token), hmac (signature, see --preset) or standard (Standard Webhooks)', oneOf(['bearer', 'hmac', 'standard']))
    .option('--preset <service>', 'hmac signing like github, stripe or slack (implies --auth hmac; "none" to clear)', oneOf(['github', 'stripe', 'slack'], true))
    .option('--secret <secret>', 'signing secret for hmac/standard (standard: whsec_…)')
    .option('--token <token>', 'bearer token to use instead of a generated one (at least 16 characters); "" = the global webhooks.token')
    .option('--header <name>', 'generic hmac: the header carrying the signature')
    .option('--algorithm <alg>', 'generic hmac: sha256, sha1 or sha512', oneOf(['sha256', 'sha1', 'sha512']))
    .option('--encoding <enc>', 'generic hmac: hex or base64', oneOf(['hex', 'base64']))
    .option('--sig-prefix <text>', 'generic hmac: prefix stripped from the signature (e.g. sha256=)')
    .option('--sig-regex <regex>', 'generic hmac: the signature is group 1 of this regex')
    .option('--payload-prefix-regex <regex>', 'generic hmac: group 1 of this regex on the header, plus ".", is signed before the body')
    .option('--dedupe-header <name>', 'header whose value identifies a delivery; repeats are accepted once ("none" to clear)', parseNullable)
    .option('--tolerance <seconds>', 'how old a signed timestamp may be (default 300)', parseSeconds)
    .option('--dedupe-window <seconds>', 'an identical body within this many seconds is a duplicate (0 = off, "default" = 86400 for github, else off)', parseWindow)
    .option('--task-folder <name>', 'cron_task: the folder under cron_tasks/ (default: the id)', parseNullable)
    .option('--task <text>', 'cron_task: what the task should do (its TASK_DESCRIPTION.md)')
  return runOptions(cmd, { scope: 'cron_task', owner: 'hook', peers: 'tasks', permissionNote: ' (wake: the chat\'s)' })
}

/** The request body for `add`/`edit` from the options given; `--preset` alone means `--auth hmac`. */
export function hookBody (opts: Opts): Record<string, unknown> {
  const body = withWholeWindow(pickFields(opts, WEBHOOK_FIELDS))
  if (typeof body['hmac_preset'] === 'string' && body['auth_mode'] === undefined) body['auth_mode'] = 'hmac'
  return body
}

/** `--payload '{"a":1}'` or `--payload @file.json`: a JSON object. */
export function parsePayload (value: string): Record<string, unknown> {
  let text = value
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8')
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${value.slice(1)}: ${(err as Error).message}`)
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('the payload must be a JSON object')
  return parsed as Record<string, unknown>
}

// Any id of 1-64 characters: webhooks.json may hold ids older versions allowed (the route takes them).
const hookRecords: TaskRecords<HookView> = { noun: 'webhook', path: '/webhooks', idPattern: /^.{1,64}$/su, list: 'ductor webhook list', idHelp: 'the webhook\'s id', options: hookOptions, fields: { id: 'id', ...WEBHOOK_FIELDS }, describe: describeHook, runSettings: (view) => view.hook, notes: (view, sent) => authNotes(view.hook, sent) }
const path = (id: string): string => recordPath(hookRecords, id)

/** Polls until a run of hook `id` that is not in `before` has ended. */
async function waitForNewRun (api: ApiClient, id: string, before: Set<string>): Promise<Run> {
  return await pollUntil(async () => {
    const { runs } = await api.request<{ runs: Run[] }>('GET', `/runs?kind=webhook&ref=${encodeURIComponent(id)}&limit=20`)
    const fresh = runs.filter((r) => !before.has(r.id))
    return fresh.length > 0 && fresh.every((r) => r.status !== 'running') ? fresh[0] : undefined
  })
}

export function webhookCommand (io: CliIo): Command {
  const webhook = new Command('webhook').description('manage webhooks (other services waking the assistant) through the running service')

  for (const [name, on] of [['enable', true], ['disable', false]] as const) {
    webhook.command(name)
      .description(on ? 'switch webhooks on (webhooks.enabled = true); takes effect at once, no restart' : 'switch webhooks off: every delivery is refused (403) until enabled again')
      .option(...JSON_OPTION)
      .action(async (opts: Opts) => {
        const api = await connectApi(io.env)
        const answer = await api.request<{ changed: string[], overridden_by_env?: string[] }>('PATCH', '/config', { webhooks: { enabled: on } })
        // Hooks are served on the service's main listener, not on the admin API's.
        const base = (await readServiceInfo(resolvePaths(io.env).state))?.url ?? api.url
        printResult(io, opts, answer, () => on
          ? `Webhooks are on: POST ${base}/hooks/<id> is accepted now (no restart needed); ${answer.changed.length === 0 ? 'they already were on' : 'saved in config.json'}.\n` +
            'Add one with: ductor webhook add --id <id> --template "…"; behind a reverse proxy, pass /hooks/ through (docs/webhooks.md).\n'
          : `Webhooks are off: every delivery is refused (403) until \`ductor webhook enable\`; ${answer.changed.length === 0 ? 'they already were off' : 'saved in config.json'}.\n`)
      })
  }

  webhook.command('list')
    .description('all webhooks with their mode, auth and last trigger')
    .option(...JSON_OPTION)
    .action(async (opts: Opts) => {
      const api = await connectApi(io.env)
      const { hooks } = await api.request<{ hooks: HookView[] }>('GET', '/webhooks')
      const zone = opts.json === true ? '' : await userZone(io, api)
      printResult(io, opts, hooks, () => table(hooks.map((v) => ({
        ...v.hook,
        on: v.hook.enabled ? 'yes' : 'no',
        auth: v.auth.scheme,
        last: v.hook.last_triggered_at === null ? null : `${localTime(v.hook.last_triggered_at, zone) ?? ''}${v.hook.last_error === null ? '' : ' (error)'}`
      })), [['id', 'id'], ['mode', 'mode'], ['auth', 'auth'], ['on', 'on'], ['trigger_count', 'triggers'], ['last', `last triggered (${zone})`], ['title', 'title']]) +
        (hooks.length > 0 && hooks[0]?.ingress_enabled === false ? 'Note: webhooks are switched off (webhooks.enabled is false); switch them on with: ductor webhook enable\n' : ''))
    })

  addCommand(webhook, io, hookRecords, {
    description: 'create a webhook (a bearer token is generated and shown once)',
    idHelp: 'short name: lower-case letters, digits, - and _; the URL is /hooks/<id>',
    body: (opts) => {
      const body: Record<string, unknown> = { mode: 'wake', ...hookBody(opts) }
      if (body['prompt_template'] === undefined) throw new Error('--template is required, e.g. --template "CI failed on {{branch}}: {{message}}"')
      if (body['mode'] === 'cron_task' && body['task_folder'] === undefined) body['task_folder'] = opts['id']
      return body
    }
  })

  showCommand(webhook, io, hookRecords, 'one webhook: URL, how to authenticate, counters')

  editCommand(webhook, io, hookRecords, {
    description: 'change a webhook; only the options given change',
    example: '--enabled false',
    body: hookBody
  })

  webhook.command('remove')
    .description('delete a webhook (a cron_task hook\'s task folder is kept)')
    .argument('<id>', 'the webhook\'s id')
    .option(...JSON_OPTION)
    .action(async (id: string, opts: Opts) => {
      const answer = await (await connectApi(io.env)).request<{ deleted: boolean, id: string }>('DELETE', path(id))
      printResult(io, opts, answer, () => `Removed webhook ${id}; senders now get 404.\n`)
    })

  webhook.command('rotate')
    .description('give a bearer webhook a new token (the old one stops working at once)')
    .argument('<id>', 'the webhook\'s id')
    .option(...JSON_OPTION)
    .action(async (id: string, opts: Opts) => {
      const view = await (await connectApi(io.env)).request<HookView>('POST', `${path(id)}/rotate-token`)
      printResult(io, opts, view, () => `New token for webhook ${id}: ${view.token ?? '(none)'}\nThe old token no longer works; update the sender. The token is shown only now.\n`)
    })

  webhook.command('test')
    .description('dispatch a test delivery (a sample payload filling every placeholder, or --payload)')
    .argument('<id>', 'the webhook\'s id')
    .option('--payload <json>', 'the JSON payload, or @file.json', parsePayload)
    .option('--wait', 'wait for the runs it starts and print their status (exit 1 unless they succeeded)')
    .option(...JSON_OPTION)
    .action(async (id: string, opts: Opts) => {
      const at = path(id)
      const api = await connectApi(io.env)
      const before = opts['wait'] === true
        ? new Set((await api.request<{ runs: Run[] }>('GET', `/runs?kind=webhook&ref=${encodeURIComponent(id)}&limit=20`)).runs.map((r) => r.id))
        : new Set<string>()
      const body = opts['payload'] === undefined ? {} : { payload: opts['payload'] }
      const answer = await api.request<{ accepted: boolean, delivery_id: string, rendered: string }>('POST', `${at}/test`, body)
      if (opts['wait'] !== true) {
        printResult(io, opts, answer, () => `Test delivery ${answer.delivery_id} accepted for webhook ${id}. The agent gets:\n${answer.rendered}\n`)
        return
      }
      const run = await waitForNewRun(api, id, before)
      printResult(io, opts, { ...answer, run }, () => `Test delivery ${answer.delivery_id} for webhook ${id} finished: ${run.status}${run.error === null ? '' : ` (${run.error})`}\n`)
      if (run.status !== 'success') io.exitCode = 1
    })

  return webhook
}

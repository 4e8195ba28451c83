import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { Orchestrator } from '../core/orchestrator.ts'
import { nullSink } from '../core/sink.ts'
import { scanForInjection } from '../core/input-scan.ts'
import type { RunLog } from '../core/run-log.ts'
import type { JournalEntry } from '../store/journal.ts'
import type { FinishAfter } from '../store/inbox.ts'
import type { WorkClaim } from '../claims.ts'
import type { RunTask } from '../automation/task-run-types.ts'
import type { Hook } from './hook-schema.ts'
import type { HookStore } from './hook-store.ts'
import { renderTemplate, wrapUntrusted } from './template.ts'
import type { RunEndStatus } from '../core/run-log.ts'

/** What the hooks route records in the inbox for one accepted delivery (kind `webhook`). */
export interface WebhookDelivery {
  hook_id: string
  delivery_id: string
  payload: Record<string, unknown>
  /** A delivery sent by `POST /api/webhooks/:id/test`. */
  test?: boolean
}

const deliveryEnd = Buffer.from('}')

/**
 * The delivery as JSON with the request body's own bytes as its `payload`, for the journal: the body
 * was just parsed into `delivery.payload` (valid UTF-8 JSON, one object), so stringifying that object
 * again would only make the same text (ADR 0033). In parts (head, body, end), which the journal writes
 * as they are: the body is not copied (ADR 0048). Null when the bytes cannot stand in a journal line
 * as they are: a newline (pretty-printed JSON) or a byte-order mark; the journal then stringifies.
 */
export function encodeDelivery (delivery: WebhookDelivery, body: Buffer): Buffer[] | null {
  if (body.includes(0x0a) || (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf)) return null
  const head = Buffer.from(`{"hook_id":${JSON.stringify(delivery.hook_id)},"delivery_id":${JSON.stringify(delivery.delivery_id)},"payload":`)
  return [head, body, deliveryEnd]
}

export interface DispatchResult {
  /** `success`, an `error:…` or `skipped:…` status (SPEC §8.2, §9). */
  status: RunEndStatus
  /** Run-history ids of the runs this dispatch made (one per chat for `wake`). */
  runIds: string[]
}

export interface DispatcherDeps {
  config: () => Config
  store: HookStore
  orchestrator: Pick<Orchestrator, 'handleMessage' | 'defaultSink'>
  runTask: RunTask
  runs: RunLog
  clock: Clock
  logger: Logger
}

export interface Dispatcher {
  /**
   * Runs one delivery now; resolves when its runs have ended. Null when the hook no longer exists.
   * Its runs are made for `claim` (the inbox entry's; see src/core/claims.ts).
   */
  dispatch: (delivery: WebhookDelivery, claim?: WorkClaim) => Promise<DispatchResult | null>
  /**
   * The inbox handler for kind `webhook`: resolves once the delivery's runs have ended, asking the
   * inbox to finish the entry only after its trigger count is on disk (ADR 0033, ADR 0048).
   */
  handleEntry: (entry: JournalEntry, claim: WorkClaim) => Promise<void | FinishAfter>
}

/**
 * Hands accepted deliveries to the agent (SPEC §9). The hook's template is filled from the payload,
 * scanned for prompt-injection patterns (logged, not blocked) and wrapped between the untrusted-input
 * markers. `wake`: the prompt enters each allowed user's chat lane as if they had typed it, and the
 * reply goes to that chat's default sink. `cron_task`: one isolated task run in
 * `cron_tasks/<task_folder>/` with the hook's overrides, quiet hours and dependency. Afterwards the
 * hook's `trigger_count`, `last_triggered_at` and `last_error` are updated.
 */
export function createDispatcher (deps: DispatcherDeps): Dispatcher {
  async function wake (hook: Readonly<Hook>, prompt: string, claim: WorkClaim | undefined): Promise<DispatchResult> {
    const allowed = deps.config().allowed_user_ids
    const chats = allowed.length === 0 ? [] : [...new Set(allowed)].map(String)
    if (chats.length === 0) {
      const run = await deps.runs.record({ kind: 'webhook', ref: hook.id, status: 'error:no_chat', error: 'No allowed_user_ids are configured, so there is no chat to wake.' })
      return { status: 'error:no_chat', runIds: [run.id] }
    }
    const outcomes = await Promise.all(chats.map(async (chatId) => await deps.orchestrator.handleMessage({
      chatId,
      text: prompt,
      origin: 'webhook',
      sink: deps.orchestrator.defaultSink(chatId) ?? nullSink,
      kind: 'webhook',
      ref: hook.id,
      title: hook.title,
      permissionMode: hook.permission_mode,
      ...(claim !== undefined ? { claim } : {})
    })))
    const runIds: string[] = []
    let status: RunEndStatus = 'success'
    for (const outcome of outcomes) {
      const own: RunEndStatus = outcome.kind === 'run' ? outcome.summary.status : 'error:aborted'
      if (outcome.kind === 'run') runIds.push(outcome.summary.runId)
      if (status === 'success' && own !== 'success') status = own
    }
    return { status, runIds }
  }

  async function cronTask (hook: Readonly<Hook>, prompt: string, test: boolean, claim: WorkClaim | undefined): Promise<DispatchResult> {
    if (hook.task_folder === null || hook.task_folder.trim() === '') {
      const run = await deps.runs.record({ kind: 'webhook', ref: hook.id, status: 'error:no_task_folder', error: 'This cron_task webhook has no task_folder.' })
      return { status: 'error:no_task_folder', runIds: [run.id] }
    }
    const result = await deps.runTask({
      kind: 'webhook',
      ref: hook.id,
      title: hook.title,
      taskFolder: hook.task_folder,
      prompt,
      overrides: { provider: hook.provider, model: hook.model, reasoning_effort: hook.reasoning_effort, cli_parameters: hook.cli_parameters, permission_mode: hook.permission_mode },
      quietStart: hook.quiet_start,
      quietEnd: hook.quiet_end,
      dependency: hook.dependency,
      // A test the user asked for runs now, like `ductor cron run`; real deliveries keep quiet hours.
      ignoreQuietHours: test,
      ...(claim !== undefined ? { claim } : {})
    })
    return { status: result.status, runIds: result.runId === null ? [] : [result.runId] }
  }

  interface Prepared { hook: Readonly<Hook>, prompt: string, test: boolean, at: Record<string, string> }

  // The delivery (its payload) is needed only to make the prompt: nothing that waits for the runs
  // or the trigger count (up to a second; ADR 0036) holds it.
  function prepare (delivery: WebhookDelivery): Prepared | null {
    // Bindings per line rather than a child logger per delivery: a pino child costs more than its lines.
    const log = deps.logger
    const at = { ingress: 'webhook', hookId: delivery.hook_id, deliveryId: delivery.delivery_id }
    const hook = deps.store.get(delivery.hook_id)
    if (hook === undefined) {
      log.warn(at, 'webhook delivery dropped: the hook was deleted before it could run')
      return null
    }
    if (!hook.enabled && delivery.test !== true) {
      log.warn(at, 'webhook delivery dropped: the hook was disabled before it could run')
      return null
    }
    const text = renderTemplate(hook.prompt_template, delivery.payload)
    const flagged = scanForInjection(text)
    if (flagged.length > 0) log.warn({ ...at, patterns: flagged }, 'possible prompt injection in webhook payload (not blocked)')
    return { hook, prompt: wrapUntrusted(text, hook.title), test: delivery.test === true, at }
  }

  async function run ({ hook, prompt, test, at }: Prepared, claim: WorkClaim | undefined): Promise<DispatchResult> {
    const log = deps.logger
    let result: DispatchResult
    try {
      result = hook.mode === 'wake' ? await wake(hook, prompt, claim) : await cronTask(hook, prompt, test, claim)
    } catch (err) {
      log.error({ ...at, err }, 'webhook dispatch failed')
      result = { status: 'error:internal', runIds: [] }
    }
    // The line's object only when the line is written (most services log at WARNING): ADR 0048.
    if (log.isLevelEnabled('info')) log.info({ ...at, mode: hook.mode, status: result.status, runIds: result.runIds }, 'webhook dispatched')
    return result
  }

  // Every count of one webhooks.json write shares its promise (HookStore.countTrigger); a failed
  // write is logged once, by one handler per write, not once per delivery that waits for it.
  let shared: Promise<void> | undefined
  let sharedSettled: Promise<void> = Promise.resolve()

  /** The hook's count for `result`: resolves once it is on disk (or its write failed, which is logged). */
  function count (hookId: string, result: DispatchResult): Promise<void> {
    const written = deps.store.countTrigger(hookId, { at: deps.clock.now(), error: result.status === 'success' ? null : result.status })
    if (written !== shared) {
      shared = written
      sharedSettled = written.catch((err: unknown) => { deps.logger.error({ ingress: 'webhook', err }, 'could not update the webhooks\' trigger counts') })
    }
    return sharedSettled
  }

  return {
    dispatch (delivery, claim) {
      const prepared = prepare(delivery)
      if (prepared === null) return Promise.resolve(null)
      return run(prepared, claim).then(async (result) => {
        await count(prepared.hook.id, result)
        return result
      })
    },
    handleEntry (entry, claim) {
      const delivery = asDelivery(entry.payload)
      if (delivery === null) {
        deps.logger.error({ seq: entry.seq, key: entry.key }, 'inbox: a webhook entry has an unexpected shape; skipped')
        return Promise.resolve()
      }
      const prepared = prepare(delivery)
      if (prepared === null) return Promise.resolve()
      // The entry is finished once its count is on disk (ADR 0033). Nothing of this delivery waits
      // for that: the inbox keeps its seq with the others of the same write (ADR 0041, ADR 0048).
      return run(prepared, claim).then((result): FinishAfter => ({ after: count(prepared.hook.id, result) }))
    }
  }
}

function asDelivery (raw: unknown): WebhookDelivery | null {
  if (typeof raw !== 'object' || raw === null) return null
  const d = raw as Partial<WebhookDelivery>
  if (typeof d.hook_id !== 'string' || typeof d.delivery_id !== 'string') return null
  if (typeof d.payload !== 'object' || d.payload === null || Array.isArray(d.payload)) return null
  return { hook_id: d.hook_id, delivery_id: d.delivery_id, payload: d.payload, ...(d.test === true && { test: true }) }
}

import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import { loadJsonFile, writeJsonAtomic } from '../atomic-json.ts'
import { ruleKey, summarizeTool, type ToolSummary } from './approval-summary.ts'
import type { ChatSink } from './sink.ts'

/**
 * Pending approvals (issue 21, ADR 0027): a CLI run in `permission_mode: "ask"` asks here, through
 * ductor's permission-prompt tool, before a tool its own rules would ask about in a terminal. The
 * request waits for one answer from the chats the run reports to (Telegram buttons, or the admin API),
 * or for the timeout, which denies. Every request settles exactly once; an answer to a request that is
 * unknown, settled, expired or shown in another chat changes nothing. "Always allow this" remembers a
 * rule per chat (`state/approval-rules.json`), listed and revoked with `/permissions`.
 */

/** The buttons: Allow once, Always allow this, Deny, Deny and stop. */
export type ApprovalAction = 'allow' | 'always' | 'deny' | 'stop'
export const APPROVAL_ACTIONS: readonly ApprovalAction[] = ['allow', 'always', 'deny', 'stop']

/** How a request ended: answered, timed out, or its run ended first (shutdown, /stop). */
export type ApprovalOutcome = 'allowed' | 'always' | 'denied' | 'stopped' | 'timeout' | 'ended'

export interface ApprovalSource {
  kind: 'chat' | 'cron' | 'webhook' | 'heartbeat'
  ref: string | null
  title: string | null
}

export interface ApprovalRequest {
  /** 128 random bits: the callback data and the API path carry it, nothing else names a request. */
  id: string
  runId: string
  /** The chats asked (a chat run: its chat; a task: the chats its result is delivered to). */
  chatIds: string[]
  source: ApprovalSource
  tool: string
  input: Record<string, unknown>
  summary: ToolSummary
  /** What "Always allow this" would remember (`Bash(<command>)`, `Write(<path>)`, …). */
  rule: string
  createdAt: number
  expiresAt: number
}

export type ApprovalEvent =
  | { type: 'requested', request: ApprovalRequest }
  | { type: 'settled', request: ApprovalRequest, outcome: ApprovalOutcome, by: string | null }

/** What the permission-prompt tool returns to Claude Code (test/fixtures/cli/APPROVALS.md). */
export type ApprovalDecision =
  | { behavior: 'allow', updatedInput: Record<string, unknown> }
  | { behavior: 'deny', message: string, interrupt?: boolean }

export interface ApprovalRule { id: string, chat_id: string, rule: string, tool: string, created_at: string }

export interface ApprovalRun {
  /** The run's token: the permission-prompt tool sends it with each request. */
  readonly token: string
  /** Requests that nobody answered in time (denied). */
  readonly timedOut: number
  /** Those requests, in the order they timed out (for the run's result: what was not done). */
  readonly expired: readonly ApprovalRequest[]
  /** Whether someone pressed "Deny and stop". */
  readonly stopped: boolean
  /** The run ended: its open requests are denied, its token stops working. */
  close: () => void
}

/** Who answered: `telegram:<user id>` or `api`. */
export interface Answerer { via: 'telegram' | 'api', chatId?: string, userId?: number }

export type AnswerResult = 'ok' | 'unknown' | 'settled'

export interface Approvals {
  openRun: (opts: { runId: string, chatIds: string[], source: ApprovalSource, sink?: ChatSink }) => ApprovalRun
  /** The permission-prompt tool's request; resolves with the decision. Null: the token names no open run. */
  ask: (token: string, request: { tool: string, input: Record<string, unknown> }) => Promise<ApprovalDecision> | null
  answer: (id: string, action: ApprovalAction, by: Answerer) => AnswerResult
  pending: () => ApprovalRequest[]
  get: (id: string) => ApprovalRequest | undefined
  rules: (chatId?: string) => ApprovalRule[]
  revokeRule: (id: string, chatId?: string) => Promise<boolean>
  subscribe: (listener: (event: ApprovalEvent) => void) => () => void
  /** Shutdown: every open request is denied. */
  closeAll: () => void
}

export interface ApprovalsDeps {
  clock: Clock
  logger: Logger
  /** `approvals.timeout_seconds`, read at each request. */
  timeoutSeconds: () => number
  /** `state/approval-rules.json`. */
  rulesPath: string
}

interface Open {
  request: ApprovalRequest
  run: RunState
  resolve: (decision: ApprovalDecision) => void
  timer: NodeJS.Timeout
}

interface RunState {
  runId: string
  chatIds: string[]
  source: ApprovalSource
  sink?: ChatSink
  timedOut: number
  expired: ApprovalRequest[]
  stopped: boolean
  open: Set<string>
}

export async function createApprovals (deps: ApprovalsDeps): Promise<Approvals> {
  const runs = new Map<string, RunState>()
  const open = new Map<string, Open>()
  const listeners = new Set<(event: ApprovalEvent) => void>()
  const loaded = await loadJsonFile<ApprovalRule[]>(deps.rulesPath, { empty: () => [], accept: isRuleList, logger: deps.logger, now: deps.clock.now })
  let rules: ApprovalRule[] = loaded.value
  let saving = Promise.resolve()
  const save = async (): Promise<void> => {
    const snapshot = [...rules]
    saving = saving.then(async () => { await writeJsonAtomic(deps.rulesPath, snapshot) })
    await saving
  }

  const emit = (event: ApprovalEvent, run: RunState): void => {
    for (const listener of listeners) {
      try { listener(event) } catch (err) { deps.logger.error({ err }, 'approvals: a listener failed') }
    }
    run.sink?.emit(event.type === 'requested'
      ? { type: 'approval', request: event.request }
      : { type: 'approval_settled', request: event.request, outcome: event.outcome, by: event.by })
  }

  const settle = (id: string, outcome: ApprovalOutcome, by: string | null): boolean => {
    const entry = open.get(id)
    if (entry === undefined) return false
    open.delete(id)
    entry.run.open.delete(id)
    clearTimeout(entry.timer)
    const { request } = entry
    if (outcome === 'timeout') {
      entry.run.timedOut++
      entry.run.expired.push(request)
    }
    if (outcome === 'stopped') entry.run.stopped = true
    entry.resolve(decisionFor(outcome, request, deps.timeoutSeconds()))
    deps.logger.info({ approval: id, runId: request.runId, tool: request.tool, outcome, by }, 'approval settled')
    emit({ type: 'settled', request, outcome, by }, entry.run)
    return true
  }

  return {
    openRun ({ runId, chatIds, source, sink }) {
      const token = randomBytes(24).toString('base64url')
      const run: RunState = { runId, chatIds: [...chatIds], source, ...(sink !== undefined ? { sink } : {}), timedOut: 0, expired: [], stopped: false, open: new Set() }
      runs.set(token, run)
      return {
        token,
        get timedOut () { return run.timedOut },
        get expired () { return run.expired },
        get stopped () { return run.stopped },
        close () {
          runs.delete(token)
          for (const id of [...run.open]) settle(id, 'ended', null)
        }
      }
    },

    ask (token, { tool, input }) {
      const run = runs.get(token)
      if (run === undefined) return null
      const key = ruleKey(tool, input)
      const remembered = rules.find((r) => r.rule === key && run.chatIds.includes(r.chat_id))
      if (remembered !== undefined) {
        deps.logger.info({ runId: run.runId, tool, rule: remembered.id }, 'approval: allowed by a remembered rule')
        return Promise.resolve({ behavior: 'allow', updatedInput: input })
      }
      const now = deps.clock.now()
      const timeoutMs = deps.timeoutSeconds() * 1000
      const request: ApprovalRequest = {
        id: randomBytes(16).toString('hex'),
        runId: run.runId,
        chatIds: run.chatIds,
        source: run.source,
        tool,
        input,
        summary: summarizeTool(tool, input),
        rule: key,
        createdAt: now,
        expiresAt: now + timeoutMs
      }
      return new Promise<ApprovalDecision>((resolve) => {
        const timer = setTimeout(() => { settle(request.id, 'timeout', null) }, timeoutMs)
        open.set(request.id, { request, run, resolve, timer })
        run.open.add(request.id)
        deps.logger.info({ approval: request.id, runId: run.runId, tool }, 'approval requested')
        emit({ type: 'requested', request }, run)
      })
    },

    answer (id, action, by) {
      const entry = open.get(id)
      if (entry === undefined) return 'unknown'
      // A button only answers in a chat the request was shown in.
      if (by.via === 'telegram' && (by.chatId === undefined || !entry.request.chatIds.includes(by.chatId))) return 'unknown'
      if (deps.clock.now() >= entry.request.expiresAt) {
        settle(id, 'timeout', null)
        return 'settled'
      }
      const who = by.via === 'telegram' ? `telegram:${by.userId ?? '?'}` : 'api'
      if (action === 'always') {
        const chatId = by.chatId ?? entry.request.chatIds[0]
        if (chatId !== undefined && !rules.some((r) => r.chat_id === chatId && r.rule === entry.request.rule)) {
          rules = [...rules, { id: randomBytes(4).toString('hex'), chat_id: chatId, rule: entry.request.rule, tool: entry.request.tool, created_at: new Date(deps.clock.now()).toISOString() }]
          save().catch((err: unknown) => deps.logger.error({ err }, 'approvals: could not save the rules'))
        }
      }
      settle(id, outcomeOf(action), who)
      return 'ok'
    },

    pending: () => [...open.values()].map((o) => o.request),
    get: (id) => open.get(id)?.request,
    rules: (chatId) => rules.filter((r) => chatId === undefined || r.chat_id === chatId),
    async revokeRule (id, chatId) {
      const before = rules.length
      rules = rules.filter((r) => !(r.id === id && (chatId === undefined || r.chat_id === chatId)))
      if (rules.length === before) return false
      await save()
      return true
    },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    closeAll () {
      for (const id of [...open.keys()]) settle(id, 'ended', null)
    }
  }
}

function isRuleList (raw: unknown): raw is ApprovalRule[] {
  return Array.isArray(raw) && raw.every((r) => typeof r === 'object' && r !== null &&
    typeof (r as ApprovalRule).id === 'string' && typeof (r as ApprovalRule).chat_id === 'string' && typeof (r as ApprovalRule).rule === 'string')
}

function outcomeOf (action: ApprovalAction): ApprovalOutcome {
  switch (action) {
    case 'allow': return 'allowed'
    case 'always': return 'always'
    case 'deny': return 'denied'
    case 'stop': return 'stopped'
  }
}

function decisionFor (outcome: ApprovalOutcome, request: ApprovalRequest, timeoutSeconds: number): ApprovalDecision {
  switch (outcome) {
    case 'allowed': case 'always': return { behavior: 'allow', updatedInput: request.input }
    case 'denied': return { behavior: 'deny', message: 'The user denied this request. Do not try to do the same another way; ask the user what to do instead.' }
    case 'stopped': return { behavior: 'deny', message: 'The user denied this request and stopped the run.', interrupt: true }
    case 'timeout': return { behavior: 'deny', message: `Nobody answered within ${timeoutSeconds} s, so ductor denied this request.` }
    case 'ended': return { behavior: 'deny', message: 'The run ended before anyone answered, so ductor denied this request.' }
  }
}

/** The words each outcome is shown with (Telegram, `ductor chat`, docs/approvals.md). */
export function outcomeText (outcome: ApprovalOutcome, timeoutSeconds: number): string {
  switch (outcome) {
    case 'allowed': return 'Allowed once.'
    case 'always': return 'Allowed, and always allowed from now on (/permissions lists it).'
    case 'denied': return 'Denied.'
    case 'stopped': return 'Denied, and the run was stopped.'
    case 'timeout': return `Denied: nobody answered within ${timeoutSeconds} s.`
    case 'ended': return 'Denied: the run ended first.'
  }
}

/**
 * What an unattended run's result says when nobody answered some of its requests (ADR 0029): how many,
 * which, and that they were denied. `mask` removes live secrets from the commands shown.
 */
export function expiredText (expired: readonly ApprovalRequest[], timeoutSeconds: number, mask: (text: string) => string = (t) => t): string {
  const n = expired.length
  const what = expired.slice(0, 3).map((r) => `${r.summary.title} (${r.tool}): ${oneLine(mask(r.summary.detail))}`)
  if (n > 3) what.push(`and ${n - 3} more`)
  const requests = n === 1 ? '1 tool request' : `${n} tool requests`
  return `Nobody answered ${requests} within ${timeoutSeconds} s, so ductor denied ${n === 1 ? 'it' : 'them'} and the task did not do ${n === 1 ? 'that' : 'those'}: ${what.join('; ')}.`
}

function oneLine (text: string): string {
  const first = text.split('\n')[0] ?? ''
  return first.length > 120 ? `${first.slice(0, 119)}…` : first
}

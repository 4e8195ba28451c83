import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger-types.ts'
import type { HomePaths } from '../home/paths.ts'
import type { ProviderName } from '../providers/events.ts'
import type { RunOutcome } from '../providers/runner.ts'
import type { RunEndStatus, RunLog } from './run-log.ts'
import type { SessionStore } from './session-store.ts'
import { checkFreshness, type SessionRules } from './sessions.ts'
import type { CliExecutor } from '../providers/cli-executor.ts'
import type { Limiter } from './limiter.ts'
import type { ChatSink, RunSummary } from './sink.ts'
import { ClaimRefused, type ClaimGate, type WorkClaim } from '../claims.ts'
import { providerOfModel, modelChoices } from '../models.ts'
import { memorySystemText, withReminder, ageWarning } from './prompt.ts'
import { expiredText, type Approvals, type ApprovalRun } from './approvals.ts'
import { fallbackNotice, providerFallback, type ProviderLogins } from './fallback.ts'

/** The chat's `permission_mode`: `approvals.chats[<chat id>]`, else the global one. */
export function permissionModeFor (config: Config, chatId: string): string {
  return config.approvals.chats[chatId] ?? config.permission_mode
}

export interface ChatRunDeps {
  config: () => Config
  paths: HomePaths
  sessions: SessionStore
  runs: RunLog
  cli: CliExecutor
  limiter: Limiter
  clock: Clock
  logger: Logger
  timezone: () => string
  /** Where a run without a claim of its own (admin API, heartbeat) gets one. */
  claims: Pick<ClaimGate, 'claim'>
  /** Pending tool approvals (`permission_mode: "ask"`); absent, such a run asks nobody and Claude denies. */
  approvals?: Pick<Approvals, 'openRun'>
  /** Which CLIs are logged in, for the provider fallback (src/core/fallback.ts); absent = no fallback. */
  logins?: () => Promise<ProviderLogins>
  /** Chats already told about the fallback (`<chat>:<from>→<to>`) while the service runs. */
  fallbackTold?: Set<string>
}

export interface ChatRunInput {
  chatId: string
  prompt: string
  sink: ChatSink
  signal: AbortSignal
  /** One-message overrides (`@model`, the API's `provider`/`model`). */
  provider?: ProviderName
  model?: string
  images?: string[]
  kind?: 'chat' | 'webhook' | 'heartbeat'
  ref?: string | null
  /** The webhook's title (its tool requests name it). */
  title?: string | null
  /** Replaces the chat's `permission_mode` for this run (a `wake` hook's own `permission_mode`, ADR 0029). */
  permissionMode?: string | null
  /** Heartbeat: run only inside a live session, never create one. */
  requireLiveSession?: boolean
  /** Heartbeat: whether this reply counts as a message of the session (default: always). */
  countsAsMessage?: (reply: string) => boolean
  /**
   * What the run is made for; the runner awaits `claim.started()` right before the CLI execs
   * (src/claims.ts). The run is announced (`run_started`) once the claim has recorded the start.
   */
  claim: WorkClaim
}

/**
 * The provider and model a message runs with: a one-message override (`@model`, the API's
 * `provider`/`model`), else the config's default, which `/model` switches (as in the Python version;
 * cron, webhooks and the heartbeat follow the same default). A model given without a provider picks
 * its provider; a provider given without a model runs the default model when it is that provider's,
 * else the provider's first model.
 */
export function chooseTarget (deps: Pick<ChatRunDeps, 'config'>, _chatId: string, over: { provider?: ProviderName, model?: string }): { provider: ProviderName, model: string } {
  const config = deps.config()
  const provider = over.provider ?? (over.model !== undefined ? providerOfModel(over.model) : null) ?? config.provider
  if (over.model !== undefined) return { provider, model: over.model }
  if (provider === config.provider) return { provider, model: config.model }
  return { provider, model: modelChoices(provider)[0] ?? config.model }
}

function sessionRules (config: Config, timezone: string): SessionRules {
  return {
    idle_timeout_minutes: config.idle_timeout_minutes,
    max_session_messages: config.max_session_messages,
    daily_reset_enabled: config.daily_reset_enabled,
    daily_reset_hour: config.daily_reset_hour,
    timezone
  }
}

const KEPT_HINT = 'Your session is kept: send your next message to continue, or /new to start fresh.'
/** After a kill the session was reset for the retry: saying it is kept would be false (breakit F1). */
const RESET_HINT = 'Your earlier session was reset when the agent was killed: your next message starts from a fresh one.'

/**
 * Runs one message of a chat through its CLI session (SPEC §5, §6): resolves the session, adds memory
 * to a new session and the memory reminder every 6th message, streams events to the sink, keeps the
 * session on failure, and after a SIGKILL (out of memory) resets that provider's session and retries once.
 * Returns null only when `requireLiveSession` finds no live session.
 */
export async function runChatMessage (deps: ChatRunDeps, input: ChatRunInput): Promise<RunSummary | null> {
  const config = deps.config()
  const { chatId, sink } = input
  const target = chooseTarget(deps, chatId, input)
  // An explicit provider (the API's `provider`) is run as asked; the default and `@model` may fall back.
  const fallback = input.provider === undefined && deps.logins !== undefined
    ? providerFallback(config, target, await deps.logins().catch(() => null))
    : null
  const { provider, model } = fallback?.to ?? target
  const rules = sessionRules(config, deps.timezone())
  const now = deps.clock.now()

  if (input.requireLiveSession === true) {
    const entry = deps.sessions.get(chatId)
    const bucket = entry?.provider_sessions[provider]
    if (entry === undefined || bucket === undefined || bucket.session_id === '' || !checkFreshness(entry, provider, rules, now).fresh) return null
  }

  const oneOff = input.provider !== undefined || input.model !== undefined || fallback !== null
  if (deps.sessions.get(chatId) === undefined && oneOff) {
    // A one-message override must not become the new chat's default: create it with the default first.
    const target = chooseTarget(deps, chatId, {})
    deps.sessions.setModel(chatId, target.provider, target.model)
  }
  if (fallback !== null) {
    const key = `${chatId}:${fallback.from.provider}>${fallback.to.provider}:${fallback.to.model}`
    const tell = deps.fallbackTold?.has(key) !== true && input.kind !== 'heartbeat'
    deps.logger[tell ? 'warn' : 'info']({ chatId, from: fallback.from, to: fallback.to }, `${fallback.from.provider} is not logged in: running ${fallback.to.provider} ${fallback.to.model} instead (provider_fallback)`)
    if (tell) {
      deps.fallbackTold?.add(key)
      sink.emit({ type: 'notice', text: fallbackNotice(fallback), level: 'warn' })
    }
  }
  const resolved = deps.sessions.resolveForRun(chatId, provider, model, rules, { oneOff })
  const messageNumber = (resolved.entry.provider_sessions[provider]?.message_count ?? 0) + 1
  const warning = input.kind === 'heartbeat' ? null : ageWarning(resolved.entry.created_at, now, config.session_age_warning_hours, messageNumber)
  if (warning !== null) sink.emit({ type: 'notice', text: warning, level: 'info' })

  const run = await deps.runs.start({ kind: input.kind ?? 'chat', ref: input.ref ?? null, chat_id: chatId, provider, model })
  const log = deps.logger.child({ runId: run.id, chatId, provider })
  let release: (() => void) | undefined
  let outcome: RunOutcome | undefined
  let sessionId = resolved.sessionId
  let reset = false
  let refused: ClaimRefused | undefined
  let announced = false
  const claim: WorkClaim = {
    async started (first) {
      await input.claim.started(first)
      if (announced) return
      announced = true
      sink.emit({ type: 'run_started', runId: run.id, provider, model })
    }
  }
  const permissionMode = input.permissionMode ?? permissionModeFor(config, chatId)
  let approval: ApprovalRun | undefined
  if (permissionMode === 'ask' && provider === 'claude' && deps.approvals !== undefined) {
    approval = deps.approvals.openRun({ runId: run.id, chatIds: [chatId], source: { kind: input.kind ?? 'chat', ref: input.ref ?? null, title: input.title ?? null }, sink })
  }
  try {
    release = await deps.limiter.acquire(input.signal)
    const memory = (await memorySystemText(deps.paths.memory)) ?? undefined
    const attempt = async (resume: string | null): Promise<RunOutcome> => await deps.cli.execute({
      runId: run.id,
      chatId,
      provider,
      model,
      prompt: withReminder(input.prompt, resume === null ? 1 : messageNumber),
      systemAppend: resume === null ? memory : undefined,
      resumeSessionId: resume,
      cwd: deps.paths.workspace,
      reasoningEffort: provider === 'codex' ? config.reasoning_effort : undefined,
      images: input.images,
      permissionMode,
      ...(approval !== undefined ? { approvalToken: approval.token } : {}),
      signal: input.signal,
      claim,
      onEvent: (event) => {
        if (event.type === 'result') {
          // The final text can be shown before the process has exited (issue 22).
          if (!event.result.isError && event.result.text.trim() !== '') sink.emit({ type: 'reply', runId: run.id, text: event.result.text })
        } else if (event.type !== 'session') {
          sink.emit({ type: 'cli', runId: run.id, event })
        }
      }
    })
    outcome = await attempt(sessionId)
    if ((outcome.kind === 'killed' || outcome.sessionNotFound === true) && !input.signal.aborted) {
      log.warn({ status: outcome.status, sessionNotFound: outcome.sessionNotFound === true }, 'resetting the session and retrying once')
      deps.sessions.resetProvider(chatId, provider)
      reset = sessionId !== null
      sessionId = null
      sink.emit({ type: 'retrying', runId: run.id })
      if (outcome.kind === 'killed') sink.emit({ type: 'notice', text: 'The agent was killed (out of memory?). Recovering with a fresh session…', level: 'warn' })
      outcome = await attempt(null)
    }
  } catch (err) {
    if (err instanceof ClaimRefused) {
      refused = err
      log.info({ reason: err.reason }, 'chat run not started: its claim was refused')
    } else if (!input.signal.aborted) log.error({ err }, 'chat run failed')
  } finally {
    approval?.close()
    release?.()
  }

  const result = outcome?.result ?? null
  // "Deny and stop" ends Claude's turn with an error result (rc 1, `aborted_tools`): it is a stop.
  if (approval?.stopped === true && outcome !== undefined && outcome.status !== 'success') {
    outcome = { ...outcome, status: 'error:aborted', kind: 'aborted', userMessage: 'Stopped: you denied a tool request and stopped the run.' }
  }
  const success = outcome?.status === 'success'
  const reply = result?.text ?? ''
  const newSessionId = result?.sessionId ?? null
  if (success || (newSessionId !== null && sessionId === null)) {
    if (input.countsAsMessage === undefined || input.countsAsMessage(reply)) {
      deps.sessions.recordResult(chatId, provider, { sessionId: newSessionId, costUsd: result?.costUsd ?? null, tokens: result?.tokens.total ?? null, model })
    }
  }
  // A webhook's wake run that ends without any reply has nothing to deliver (SPEC §9).
  const noResponse = success && input.kind === 'webhook' && reply.trim() === ''
  // Nobody in the chat answered a request of an unattended run (a wake hook): its result says so (ADR 0029).
  // In a chat the user is there; the request's own message already says it timed out.
  const unanswered = success && !noResponse && input.kind !== undefined && input.kind !== 'chat' && approval !== undefined && approval.timedOut > 0
  const status: RunEndStatus = noResponse ? 'error:no_response' : unanswered ? 'error:approval_timeout' : outcome?.status ?? 'error:aborted'
  const error = success
    ? (noResponse ? 'The agent ended without a reply.' : unanswered && approval !== undefined ? expiredText(approval.expired, config.approvals.timeout_seconds) : null)
    : outcome === undefined
      ? refused !== undefined ? refusalText(refused) : 'Stopped.'
      : outcome.kind === 'aborted' ? (outcome.userMessage ?? 'Stopped.') : `${outcome.userMessage ?? 'The agent failed.'} ${reset ? RESET_HINT : KEPT_HINT}`
  const summary: RunSummary = {
    runId: run.id,
    status,
    reply,
    provider,
    model,
    sessionId: newSessionId ?? sessionId,
    costUsd: result?.costUsd ?? null,
    tokens: result?.tokens.total ?? null,
    error
  }
  await deps.runs.finish(run.id, { status, cost_usd: summary.costUsd, tokens: summary.tokens, error, reply })
  sink.emit({ type: 'result', summary })
  return summary
}

function refusalText (refused: ClaimRefused): string {
  const later = refused.replayed ? ' It runs after the next start.' : ''
  return refused.reason === 'shutdown'
    ? `ductor is shutting down; this message was not run.${later}`
    : `ductor could not record the start of this run (is the disk full?), so it was not run.${later}`
}

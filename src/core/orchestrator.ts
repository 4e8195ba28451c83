import type { Logger } from '../logger-types.ts'
import type { ProviderName } from '../providers/events.ts'
import type { WorkClaim } from '../claims.ts'
import { runChatMessage, type ChatRunDeps } from './chat-run.ts'
import { createChatLanes, type ChatLanes } from './lanes.ts'
import { parseCommand, isAbortWord, type CommandRegistry, type CommandReply } from './commands.ts'
import { parseDirectives } from './directives.ts'
import { scanForInjection } from './input-scan.ts'
import { fanOut, type ChatSink, type RunSummary } from './sink.ts'

export interface MessageInput {
  chatId: string
  text: string
  /** Which ingress: 'telegram', 'api', 'webhook', … (for logs and commands). */
  origin: string
  sink: ChatSink
  provider?: ProviderName
  model?: string
  images?: string[]
  /** Also deliver to the chat's default sink (its Telegram chat), if one is registered. */
  alsoDeliver?: boolean
  /** Run-history kind and reference (a webhook's id for wake deliveries). */
  kind?: 'chat' | 'webhook'
  ref?: string | null
  /** A webhook's title, and its own `permission_mode` (ADR 0029; null or absent: the chat's). */
  title?: string | null
  permissionMode?: string | null
  /**
   * What the run is made for (src/core/claims.ts): the inbox's claim of a Telegram update or webhook
   * delivery; without one (the admin API) a claim that only checks that the service is not stopping.
   */
  claim?: WorkClaim
}

export type MessageOutcome =
  | { kind: 'run', summary: RunSummary }
  | { kind: 'command', name: string, reply: CommandReply }
  | { kind: 'aborted', stopped: boolean, discarded: number }
  | { kind: 'discarded' }
  | { kind: 'notice', text: string }

export interface Orchestrator {
  /** Routes one message: a command, an abort word, or a prompt through the chat's lane. */
  handleMessage: (input: MessageInput) => Promise<MessageOutcome>
  /** Stops the chat's run and discards its queue (`/stop`, abort words, the API). */
  abort: (chatId: string) => { stopped: boolean, discarded: number }
  /** Drops one queued message (the Cancel button). */
  cancel: (chatId: string, entryId: string) => boolean
  isBusy: (chatId: string) => boolean
  lanes: ChatLanes
  commands: CommandRegistry
  /** The adapter that owns a chat (Telegram) registers how to reach it, for API and wake deliveries. */
  setDefaultSink: (factory: ((chatId: string) => ChatSink | null) | null) => void
  defaultSink: (chatId: string) => ChatSink | null
  /** Waits for running entries to end (after their runs were aborted), for shutdown. */
  drain: (timeoutMs: number) => Promise<void>
}

export interface OrchestratorDeps extends ChatRunDeps {
  commands: CommandRegistry
  logger: Logger
}

/**
 * The one core every ingress feeds (SPEC §5). It owns the chat lanes and command routing and runs
 * prompts through `runChatMessage`; it knows nothing about HTTP or Telegram.
 */
export function createOrchestrator (deps: OrchestratorDeps): Orchestrator {
  const lanes = createChatLanes({ onError: (err, chatId) => deps.logger.error({ err, chatId }, 'lane entry failed') })
  let sinkFactory: ((chatId: string) => ChatSink | null) | null = null
  const pending = new Set<Promise<unknown>>()

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p)
    p.finally(() => pending.delete(p)).catch(() => {})
    return p
  }

  const abort = (chatId: string): { stopped: boolean, discarded: number } => lanes.abort(chatId)
  const stopText = (r: { stopped: boolean, discarded: number }): string => r.stopped || r.discarded > 0 ? 'Stopped.' : 'Nothing is running.'
  // In the command table like every command (menu, /help); handleMessage answers it itself (outcome 'aborted').
  deps.commands.register({ name: 'stop', description: 'stop the running reply and drop the queue', quick: true, listed: true, handler: ({ chatId }) => ({ text: stopText(abort(chatId)) }) })

  const throughLane = (chatId: string, sink: ChatSink, work: (signal: AbortSignal) => Promise<MessageOutcome>): Promise<MessageOutcome> => {
    let outcome: MessageOutcome = { kind: 'discarded' }
    const { finished } = lanes.submit(chatId, {
      run: async (signal) => { outcome = await work(signal) },
      onQueued: (entryId, position) => sink.emit({ type: 'queued', entryId, position }),
      onDequeued: (entryId) => sink.emit({ type: 'dequeued', entryId }),
      onDiscarded: (entryId, why) => sink.emit({ type: 'discarded', entryId, why })
    })
    return track(finished.then(() => outcome))
  }

  const handleMessage = async (input: MessageInput): Promise<MessageOutcome> => {
    const sink = input.alsoDeliver === true ? fanOut([input.sink, sinkFactory?.(input.chatId)]) : input.sink
    const text = input.text.trim()
    const log = deps.logger.child({ chatId: input.chatId, origin: input.origin })

    const command = parseCommand(text)
    if (command !== null && deps.commands.get(command.name) !== undefined) {
      if (command.name === 'stop') {
        const result = abort(input.chatId)
        sink.emit({ type: 'command', name: 'stop', reply: { text: stopText(result) } })
        return { kind: 'aborted', ...result }
      }
      const cmd = deps.commands.get(command.name)
      if (cmd === undefined) return { kind: 'notice', text: '' }
      const runCommand = async (): Promise<MessageOutcome> => {
        const reply = await cmd.handler({ chatId: input.chatId, args: command.args, origin: input.origin })
        sink.emit({ type: 'command', name: cmd.name, reply })
        return { kind: 'command', name: cmd.name, reply }
      }
      if (cmd.quick) return await runCommand()
      // The lane logs and swallows what its entries throw: a failed command is the caller's to answer.
      let failure: { err: unknown } | undefined
      const outcome = await throughLane(input.chatId, sink, async () => {
        try {
          return await runCommand()
        } catch (err) {
          failure = { err }
          return { kind: 'discarded' }
        }
      })
      if (failure !== undefined) throw failure.err
      return outcome
    }
    if (isAbortWord(text)) {
      // As in the Python version, a bare stop word is never a prompt, even when nothing runs.
      const result = abort(input.chatId)
      sink.emit({ type: 'command', name: 'stop', reply: { text: result.stopped || result.discarded > 0 ? 'Stopped.' : 'Nothing is running.' } })
      return { kind: 'aborted', ...result }
    }

    const directives = parseDirectives(text)
    if (directives.ignored.length > 0) log.debug({ ignored: directives.ignored }, 'ignored directives')
    if (directives.text === '') {
      const notice = directives.model !== null
        ? `"@${directives.model}" runs one message with that model: write the message after it, e.g. "@${directives.model} summarize this".`
        : 'That message only had directives (@…) and no text to send.'
      sink.emit({ type: 'notice', text: notice, level: 'info' })
      return { kind: 'notice', text: notice }
    }
    // Webhook text is scanned by the dispatcher before it is wrapped in the untrusted-input markers.
    const flagged = input.origin === 'webhook' ? [] : scanForInjection(directives.text)
    if (flagged.length > 0) log.warn({ patterns: flagged }, 'possible prompt injection in input (not blocked)')

    return await throughLane(input.chatId, sink, async (signal) => {
      const summary = await runChatMessage(deps, {
        chatId: input.chatId,
        prompt: directives.text,
        sink,
        signal,
        provider: input.provider,
        model: directives.model ?? input.model,
        images: input.images,
        kind: input.kind ?? 'chat',
        ref: input.ref ?? null,
        title: input.title ?? null,
        permissionMode: input.permissionMode ?? null,
        claim: input.claim ?? deps.claims.claim()
      })
      return summary === null ? { kind: 'discarded' } : { kind: 'run', summary }
    })
  }

  return {
    handleMessage,
    abort,
    cancel: (chatId, entryId) => lanes.cancel(chatId, entryId),
    isBusy: (chatId) => lanes.isBusy(chatId),
    lanes,
    commands: deps.commands,
    setDefaultSink (factory) { sinkFactory = factory },
    defaultSink: (chatId) => sinkFactory?.(chatId) ?? null,
    async drain (timeoutMs) {
      await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())])
    }
  }
}

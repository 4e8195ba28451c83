import type { Logger } from '../logger-types.ts'
import { runChatMessage, type ChatRunDeps } from '../core/chat-run.ts'
import type { ChatLanes } from '../core/lanes.ts'
import type { RunSummary } from '../core/sink.ts'
import { deliverToChat, type SinkLookup } from './delivery.ts'
import { isQuiet } from './quiet-hours.ts'
import type { RunEndStatus } from '../core/run-log.ts'

/**
 * The heartbeat (SPEC §8.3): one round asks every allowed user's private chat that has a live
 * session with its current provider whether there is something to say. A chat is skipped during
 * quiet hours, while it is busy (or has messages queued), and when the user was active within
 * `cooldown_minutes`. The prompt runs inside the session through the chat's lane (never alongside
 * a user message; `/stop` stops it) and under the global run limit. A reply that is only the
 * `ack_token` is dropped without a trace in the chat or the session counters; anything else is
 * delivered to the chat's default sink. It never creates a session. When to run a round is the
 * scheduler's business.
 */

export type HeartbeatChatResult =
  | { chatId: string, outcome: 'skipped', reason: 'quiet_hours' | 'busy' | 'cooldown' | 'no_session' }
  | { chatId: string, outcome: 'ack' | 'delivered' | 'undelivered' | 'failed', runId: string, status: RunEndStatus }

export interface HeartbeatDeps {
  chat: ChatRunDeps
  lanes: Pick<ChatLanes, 'submit' | 'isBusy' | 'queueDepth'>
  sinks: SinkLookup
  logger: Logger
}

export interface Heartbeat {
  /** One round over the allowed users' chats; resolves when every chat's check-in has ended. */
  runRound: () => Promise<HeartbeatChatResult[]>
}

export function createHeartbeat (deps: HeartbeatDeps): Heartbeat {
  const { chat, logger } = deps

  async function checkIn (chatId: string): Promise<HeartbeatChatResult> {
    const config = chat.config()
    const hb = config.heartbeat
    const now = chat.clock.now()
    if (isQuiet(now, chat.timezone(), hb.quiet_start, hb.quiet_end)) return { chatId, outcome: 'skipped', reason: 'quiet_hours' }
    const entry = chat.sessions.get(chatId)
    if (entry === undefined) return { chatId, outcome: 'skipped', reason: 'no_session' }
    if (deps.lanes.isBusy(chatId) || deps.lanes.queueDepth(chatId) > 0) return { chatId, outcome: 'skipped', reason: 'busy' }
    const lastActive = Date.parse(entry.last_active)
    if (Number.isFinite(lastActive) && now - lastActive < hb.cooldown_minutes * 60_000) return { chatId, outcome: 'skipped', reason: 'cooldown' }

    const ack = hb.ack_token.trim()
    let summary: RunSummary | null = null
    // The lane is idle (checked above), so the entry starts at once; a user message that arrives
    // now waits behind it, and /stop aborts it like any run of the chat.
    const { finished } = deps.lanes.submit(chatId, {
      run: async (signal) => {
        summary = await runChatMessage(chat, {
          chatId,
          prompt: hb.prompt,
          sink: { emit () {} },
          signal,
          kind: 'heartbeat',
          claim: chat.claims.claim(),
          requireLiveSession: true,
          countsAsMessage: (reply) => reply.trim() !== ack
        })
      }
    })
    await finished
    const result = summary as RunSummary | null
    if (result === null) return { chatId, outcome: 'skipped', reason: 'no_session' }
    const base = { chatId, runId: result.runId, status: result.status }
    if (result.status !== 'success') {
      logger.warn({ chatId, runId: result.runId, status: result.status }, 'heartbeat run failed')
      return { ...base, outcome: 'failed' }
    }
    const reply = result.reply.trim()
    if (reply === ack || reply === '') return { ...base, outcome: 'ack' }
    const delivered = deliverToChat(deps.sinks, chatId, { type: 'delivery', source: 'heartbeat', ref: null, title: null, text: reply, status: 'success', runId: result.runId }, logger)
    return { ...base, outcome: delivered ? 'delivered' : 'undelivered' }
  }

  return {
    async runRound () {
      const ids = [...new Set(chat.config().allowed_user_ids)].map(String)
      const results = await Promise.all(ids.map(async (chatId): Promise<HeartbeatChatResult> => {
        try {
          return await checkIn(chatId)
        } catch (err) {
          logger.error({ err, chatId }, 'heartbeat check-in failed')
          return { chatId, outcome: 'failed', runId: '', status: 'error:internal' }
        }
      }))
      logger.debug({ results }, 'heartbeat round ended')
      return results
    }
  }
}

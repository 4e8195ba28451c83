import type { Logger } from '../logger-types.ts'
import type { ChatSink, DeliveryEvent } from '../core/sink.ts'

/** How automations reach a chat: the orchestrator's default sink factory (Telegram registers it). */
export type SinkLookup = (chatId: string) => ChatSink | null

/**
 * Sends one delivery to a chat's default sink. False when no sink is registered for it (e.g. the
 * Telegram adapter is off): the result stays in the run history only. A sink that throws is logged.
 */
export function deliverToChat (sinks: SinkLookup, chatId: string, event: DeliveryEvent, logger?: Logger): boolean {
  let sink: ChatSink | null
  try {
    sink = sinks(chatId)
    if (sink === null) return false
    sink.emit(event)
    return true
  } catch (err) {
    logger?.error({ err, chatId, source: event.source, ref: event.ref }, 'could not deliver an automation result')
    return false
  }
}

/**
 * Delivers to every allowed user's private chat (SPEC §8.1; a private chat's id is the user's id).
 * Returns the chats it reached.
 */
export function deliverToAllowedUsers (sinks: SinkLookup, userIds: readonly number[], event: DeliveryEvent, logger?: Logger): string[] {
  const reached: string[] = []
  for (const id of new Set(userIds)) {
    const chatId = String(id)
    if (deliverToChat(sinks, chatId, event, logger)) reached.push(chatId)
  }
  return reached
}

/**
 * The update queue behind the fake's getUpdates: long polling (real time, capped), `offset`
 * confirms updates, a second poller ends the first with Telegram's 409.
 */
import { ApiError } from './methods.ts'
import type { Params } from './methods.ts'

type Update = Record<string, unknown> & { update_id: number }

export interface UpdateQueue {
  push: (update: Record<string, unknown>) => Update
  poll: (params: Params) => Promise<Update[]>
  size: () => number
  clear: () => void
  close: () => void
}

export function createUpdateQueue (maxPollMs: number): UpdateQueue {
  let queue: Update[] = []
  let nextId = 1
  let waiter: { wake: () => void, conflict: () => void } | null = null

  function confirm (offset: number): void {
    if (offset > 0) queue = queue.filter((u) => u.update_id >= offset)
  }

  return {
    push (update) {
      const id = typeof update.update_id === 'number' ? update.update_id : nextId
      nextId = Math.max(nextId, id + 1)
      const u = { ...update, update_id: id }
      queue.push(u)
      waiter?.wake()
      return u
    },
    async poll (params) {
      const offset = Number(params.offset ?? 0)
      const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)))
      const timeout = Number(params.timeout ?? 0)
      confirm(offset)
      if (queue.length === 0 && timeout > 0) {
        waiter?.conflict()
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(done, Math.min(timeout * 1000, maxPollMs))
          function done (): void {
            clearTimeout(timer)
            waiter = null
            resolve()
          }
          waiter = {
            wake: done,
            conflict () {
              clearTimeout(timer)
              waiter = null
              reject(new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'))
            }
          }
        })
      }
      return queue.slice(0, limit)
    },
    size: () => queue.length,
    clear () { queue = [] },
    close () { waiter?.wake() }
  }
}

export interface TextMessageOptions {
  chatId: number
  messageId: number
  /** The sender; default: the chat's own id (a private chat). */
  from?: number
  /** A forum topic of a group. */
  threadId?: number
  replyTo?: unknown
  extra?: Record<string, unknown>
}

/**
 * A text message as Telegram sends it in an update: a private chat for a positive id, else a
 * supergroup (a forum when there is a topic); a leading command carries its `bot_command` entity,
 * which covers the first word only, as Telegram's does.
 */
export function textMessage (text: string, o: TextMessageOptions): Record<string, unknown> {
  return {
    message_id: o.messageId,
    date: Math.floor(Date.now() / 1000),
    chat: o.chatId > 0 ? { id: o.chatId, type: 'private', first_name: 'Ann' } : { id: o.chatId, type: 'supergroup', title: 'Team', ...(o.threadId !== undefined ? { is_forum: true } : {}) },
    from: { id: o.from ?? o.chatId, is_bot: false, first_name: 'Ann' },
    text,
    ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0]?.length ?? 1 }] } : {}),
    ...(o.threadId !== undefined ? { message_thread_id: o.threadId, is_topic_message: true } : {}),
    ...(o.replyTo !== undefined ? { reply_to_message: o.replyTo } : {}),
    ...o.extra
  }
}

import type { Api } from 'grammy'
import type { ChatTarget } from './context.ts'
import { threadParams } from './send.ts'

/** Telegram shows "typing…" for about 5 s per sendChatAction. */
const typingEveryMs = 4_000

/**
 * Shows "typing…" in the chat until the returned function is called, or at most `maxMs` (a safety net
 * should the end of a run never be reported). Failures are ignored.
 */
export function startTyping (api: Api, where: ChatTarget, maxMs: number): () => void {
  let stopped = false
  const startedAt = Date.now()
  const tick = (): void => {
    if (stopped) return
    if (Date.now() - startedAt > maxMs) {
      stop()
      return
    }
    api.sendChatAction(where.chatId, 'typing', threadParams(where)).catch(() => {})
  }
  tick()
  const timer = setInterval(tick, typingEveryMs)
  timer.unref()
  function stop (): void {
    stopped = true
    clearInterval(timer)
  }
  return stop
}

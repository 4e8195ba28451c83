import type { Api } from 'grammy'
import type { ChatTarget } from './context.ts'
import { threadParams } from './send.ts'

/** Telegram shows "typing…" for about 5 s per sendChatAction. */
const typingEveryMs = 4_000

/** Shows "typing…" in the chat until the returned function is called. Failures are ignored. */
export function startTyping (api: Api, where: ChatTarget): () => void {
  let stopped = false
  const tick = (): void => {
    if (stopped) return
    api.sendChatAction(where.chatId, 'typing', threadParams(where)).catch(() => {})
  }
  tick()
  const timer = setInterval(tick, typingEveryMs)
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}

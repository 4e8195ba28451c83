import { Composer } from 'grammy'
import type { Message } from 'grammy/types'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'

/**
 * The gate in front of every feature (SPEC §4): only `allowed_user_ids`. In groups, as in the Python
 * version, every text message of an allowed user is answered and media only when addressed (a
 * mention, a reply to the bot); `telegram.group_mode: "addressed"` answers only messages that
 * address the bot (mention, reply, command). A command for another bot (`/x@otherbot`) is never
 * ours. The mention is stripped. Sets `ctx.ductor` for what it lets through, drops everything else
 * silently.
 */
export function accessGate (deps: BotDeps): Composer<BotContext> {
  const gate = new Composer<BotContext>()
  gate.use(async (ctx, next) => {
    const userId = ctx.from?.id
    const chat = ctx.chat
    if (chat === undefined || !deps.isAllowed(userId)) {
      if (ctx.from !== undefined) deps.logger.info({ userId, chatId: chat?.id }, 'telegram: ignored a user who is not allowed')
      // A button press is answered (so the client stops waiting) and nothing else happens.
      if (ctx.callbackQuery !== undefined) await ctx.answerCallbackQuery({ text: 'You are not allowed to use this bot.' }).catch(() => {})
      return
    }
    const msg: Message | undefined = ctx.callbackQuery?.message as Message | undefined ?? ctx.message
    if (msg === undefined) return
    let text = (ctx.message?.text ?? ctx.message?.caption ?? '').trim()
    if (ctx.message !== undefined && chat.type !== 'private') {
      const username = ctx.me.username
      const mention = new RegExp(`@${username}\\b`, 'gi')
      const repliedToBot = msg.reply_to_message?.from?.id === ctx.me.id && msg.reply_to_message.forum_topic_created === undefined
      const command = /^\/[A-Za-z0-9_]+(?:@([A-Za-z0-9_]+))?/.exec(text)
      if (command?.[1] !== undefined && command[1].toLowerCase() !== username.toLowerCase()) return
      const addressed = repliedToBot || mention.test(text) || command !== null
      const isText = typeof ctx.message.text === 'string'
      if (!addressed && (!isText || deps.config().telegram.group_mode === 'addressed')) return
      text = text.replace(new RegExp(`(^|\\s)@${username}\\b`, 'gi'), '$1').replace(/\s{2,}/g, ' ').trim()
    }
    ctx.ductor = {
      chatId: chat.id,
      ...(msg.is_topic_message === true && msg.message_thread_id !== undefined ? { threadId: msg.message_thread_id } : {}),
      key: String(chat.id),
      userId: userId as number,
      text,
      ...(ctx.message !== undefined ? { messageId: ctx.message.message_id } : {}),
      claim: deps.claimOf(ctx.update)
    }
    await next()
  })
  return gate
}

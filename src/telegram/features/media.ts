import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { FileTooLargeError, isImage, mediaOf, mediaPrompt } from '../media-in.ts'

/**
 * Photos, documents, voice, audio, video, video notes and stickers (SPEC §4): downloaded into
 * `workspace/telegram_files/YYYY-MM-DD/`, then the agent is told what arrived, where, and the
 * caption; images also go to Codex as `--image`. Too large for Telegram → a clear reply.
 */
export function mediaFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  feature.on(['message:photo', 'message:document', 'message:voice', 'message:audio', 'message:video', 'message:video_note', 'message:sticker'], async (ctx) => {
    const media = mediaOf(ctx.message)
    if (media === null) return
    let path: string
    try {
      path = await deps.downloadMedia(media)
    } catch (err) {
      const tooLarge = err instanceof FileTooLargeError
      deps.logger.warn({ err: tooLarge ? undefined : err, kind: media.kind, size: media.fileSize }, 'telegram: could not download a file')
      const text = tooLarge
        ? `⚠️ That ${media.kind.replace('_', ' ')} is too large: bots can download files up to 20 MB from Telegram. Send a smaller file, or put it on the machine yourself.`
        : `⚠️ I could not download that ${media.kind.replace('_', ' ')} from Telegram. Please try again.`
      await deps.sendMarkdown(ctx.ductor, text, { replyTo: ctx.message.message_id })
      return
    }
    deps.runAsUser(ctx.ductor, mediaPrompt(media, path, ctx.ductor.text), {
      replyTo: ctx.message.message_id,
      ...(isImage(media) ? { images: [path] } : {})
    })
  })
  return feature
}

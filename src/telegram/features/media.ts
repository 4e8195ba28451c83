import { Composer } from 'grammy'
import type { BotContext, ChatTarget } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { FileTooLargeError, isImage, mediaOf, mediaPrompt, type IncomingMedia } from '../media-in.ts'
import { recordReceivedFile } from '../../media/file-index.ts'
import { transcribe } from '../../media/transcribe.ts'
import { MissingToolError } from '../../media/tools.ts'
import { createAlbumCollector } from '../album.ts'
import { allClaims, type WorkClaim } from '../../claims.ts'

interface Received {
  where: ChatTarget
  messageId: number
  media: IncomingMedia
  path: string
  caption: string
  transcript?: string
  transcriptNote?: string
  /** Its update's claim (an album runs later, from a timer). */
  claim: WorkClaim
}

/**
 * Photos, documents, voice, audio, video, video notes and stickers (SPEC §4): downloaded into
 * `workspace/telegram_files/YYYY-MM-DD/`, then the agent is told what arrived, where, and the
 * caption; images also go to Codex as `--image`. An album becomes one message. Too large → a clear reply.
 */
export function mediaFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const run = async (items: Received[]): Promise<void> => {
    const first = items[0]
    if (first === undefined) return
    const images = items.flatMap((i) => isImage(i.media) ? [i.path] : [])
    const caption = items.map((i) => i.caption).filter((c) => c !== '').join('\n')
    // Every item's update is marked started before the run starts, not only the last one's: a crash
    // after the spawn must not replay part of the album as a new one (ADR 9).
    const claim = allClaims(items.map((i) => i.claim))
    await deps.runAsUser(first.where, mediaPrompt(items, caption), { replyTo: first.messageId, claim, ...(images.length > 0 ? { images } : {}) })
  }
  const albums = createAlbumCollector(run, 1000)
  feature.on(['message:photo', 'message:document', 'message:voice', 'message:audio', 'message:video', 'message:video_note', 'message:sticker'], async (ctx) => {
    const media = mediaOf(ctx.message)
    if (media === null) return
    const what = media.kind.replace('_', ' ')
    let path: string
    try {
      path = await deps.downloadMedia(media)
    } catch (err) {
      const tooLarge = err instanceof FileTooLargeError
      deps.logger.warn({ err: tooLarge ? undefined : err, kind: media.kind, size: media.fileSize }, 'telegram: could not download a file')
      const text = tooLarge
        ? `⚠️ That ${what} is too large: bots can download files up to 20 MB from Telegram. Send a smaller file, or put it on the machine yourself.`
        : `⚠️ I could not download that ${what} from Telegram. Please try again.`
      await deps.sendMarkdown(ctx.ductor, text, { replyTo: ctx.message.message_id })
      return
    }
    // The index of received files (telegram_files/_index.yaml), as the Python version keeps it.
    await recordReceivedFile(deps.paths.telegramFiles, { path, caption: ctx.ductor.text, received: new Date(), ...(media.mimeType !== undefined ? { mimeType: media.mimeType } : {}) })
      .catch((err: unknown) => { deps.logger.warn({ err }, 'telegram: could not update telegram_files/_index.yaml') })
    const item: Received = { where: ctx.ductor, messageId: ctx.message.message_id, media, path, caption: ctx.ductor.text, claim: ctx.ductor.claim }
    const settings = deps.config().media
    if (media.kind === 'voice' && settings.transcribe_voice) {
      // media.transcribe_voice: the agent receives the text. When it cannot be made, the user is told
      // why in one sentence and the agent gets the file with the same sentence.
      try {
        item.transcript = (await transcribe(path, settings, { env: process.env, timeoutMs: 120_000 })).text
      } catch (err) {
        const missing = err instanceof MissingToolError
        item.transcriptNote = missing ? err.message : `the speech-to-text step failed (${(err as Error).message})`
        deps.logger.warn({ err: missing ? undefined : err, reason: missing ? err.message : undefined }, 'telegram: could not transcribe a voice note')
        await deps.sendMarkdown(ctx.ductor, `⚠️ I could not transcribe your voice note: ${item.transcriptNote}`, { replyTo: ctx.message.message_id })
      }
    }
    const group = ctx.message.media_group_id
    if (group !== undefined) await albums.add(`${ctx.ductor.key}:${group}`, item)
    else await run([item])
  })
  return feature
}

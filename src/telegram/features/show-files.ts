import { realpath } from 'node:fs/promises'
import { Composer, InputFile } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { listHomeDir, resolveInHome, sendRefusal } from '../panels/home-browser.ts'
import { createTokenStore, filesView, FILES_PREFIX, parseFilesData, STALE_NOTE, type FilesView } from '../panels/files-panel.ts'
import { answer, editPanel, sendPanel } from '../panels/panel-io.ts'

/**
 * `/showfiles` (SPEC §4, §11): the home as an inline-keyboard tree; a tapped file is sent as a
 * document. Never leaves the home (see panels/home-browser.ts); buttons carry a panel token and
 * an index, never a path (panels/files-panel.ts).
 */
export function showFilesFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const views = createTokenStore<FilesView>(200)
  const root = async (): Promise<string> => await realpath(deps.paths.home)
  const load = async (view: FilesView, rel: string): Promise<string> => {
    const list = await listHomeDir(await root(), rel)
    if (!list.ok) return `Cannot open that folder: ${list.reason}.`
    Object.assign(view, { rel, entries: list.entries, hidden: list.hidden, page: 0, gen: view.gen + 1 })
    return ''
  }

  deps.telegramCommands.set('showfiles', async (ctx) => {
    const view: FilesView = { chatId: ctx.ductor.key, rel: '', entries: [], hidden: 0, page: 0, gen: 0 }
    const problem = await load(view, '')
    await (problem !== '' ? ctx.reply(problem) : sendPanel(ctx, filesView(views.create(view), view)))
  })

  feature.callbackQuery(new RegExp(`^${FILES_PREFIX}`), async (ctx) => {
    const press = parseFilesData(ctx.callbackQuery.data)
    const view = press === null ? undefined : views.get(press.token)
    if (press === null || view === undefined || view.chatId !== ctx.ductor.key) return await answer(ctx, STALE_NOTE, true)
    const { token, action } = press
    if (press.gen !== view.gen) return await Promise.all([answer(ctx, 'That list had changed; here it is again.'), editPanel(ctx, filesView(token, view))])
    let note = ''
    if (action.kind === 'page') view.page = action.page
    else if (action.kind === 'up') note = await load(view, view.rel.split('/').slice(0, -1).join('/'))
    else {
      const name = view.entries[action.index]?.name
      const target = name === undefined ? null : await resolveInHome(await root(), view.rel, name)
      if (target === null) note = 'That entry is not in this list any more.'
      else if (!target.ok) note = `Refused: ${name ?? ''}: ${target.reason}.`
      else if (target.kind === 'dir') note = await load(view, target.rel)
      else note = sendRefusal(target, name ?? '') ?? ''
      if (note === '' && target?.ok === true && target.kind === 'file') {
        await answer(ctx, `Sending ${name ?? 'the file'}…`)
        return await ctx.replyWithDocument(new InputFile(target.real, name))
      }
    }
    await answer(ctx, note === '' ? undefined : note.slice(0, 190))
    await editPanel(ctx, filesView(token, view, note))
  })
  return feature
}

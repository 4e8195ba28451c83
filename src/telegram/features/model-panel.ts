import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { chooseTarget } from '../../core/chat-run.ts'
import { renderMarkdown } from '../format/markdown.ts'
import { BUSY_HTML, effortView, MODEL_PREFIX, modelsView, parseModelData, providersView, type ModelCurrent } from '../panels/model-panel.ts'
import { providerOfModel } from '../../models.ts'
import { answer, editPanel, sendPanel } from '../panels/panel-io.ts'

/**
 * `/model` without arguments: the provider → model → (Codex) reasoning panel, edited in place on
 * each press (SPEC §4). The switch itself is the core's `/model <name> [effort]` command, so the
 * rules (busy chats refused, each provider keeps its session) are the same as typing it.
 */
export function modelPanelFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const current = (chatId: string): ModelCurrent => {
    const { provider, model } = chooseTarget({ config: deps.config }, chatId, {})
    return { provider, model, effort: deps.config().reasoning_effort }
  }
  const busy = (chatId: string): boolean => deps.parts.orchestrator.isBusy(chatId)

  // `/model <name> [effort]` is the core's command; without arguments the panel opens.
  deps.telegramCommands.set('model', async (ctx, args) => {
    if (args !== '') return await deps.runAsUser(ctx.ductor, `/model ${args}`, { claim: ctx.ductor.claim, ...(ctx.message !== undefined ? { replyTo: ctx.message.message_id } : {}) })
    if (busy(ctx.ductor.key)) return await sendPanel(ctx, { html: BUSY_HTML, keyboard: [] })
    await sendPanel(ctx, providersView(current(ctx.ductor.key)))
  })

  feature.callbackQuery(new RegExp(`^${MODEL_PREFIX}`), async (ctx) => {
    const chatId = ctx.ductor.key
    const action = parseModelData(ctx.callbackQuery.data)
    if (action === null) return await answer(ctx, 'This button is not valid any more. Send /model again.')
    if (busy(chatId)) {
      await answer(ctx, 'A reply is still running.')
      return await editPanel(ctx, { html: BUSY_HTML, keyboard: [] })
    }
    const now = current(chatId)
    if (action.kind === 'providers') return await Promise.all([answer(ctx), editPanel(ctx, providersView(now))])
    if (action.kind === 'provider') return await Promise.all([answer(ctx), editPanel(ctx, modelsView(action.provider, now))])
    if (action.kind === 'model' && providerOfModel(action.model) === 'codex') {
      return await Promise.all([answer(ctx), editPanel(ctx, effortView(action.model, now))])
    }
    const args = action.kind === 'effort' ? `${action.model} ${action.effort}` : action.model
    const reply = await deps.parts.orchestrator.commands.get('model')?.handler({ chatId, args, origin: 'telegram' })
    await answer(ctx, 'Done')
    await editPanel(ctx, { html: renderMarkdown(reply?.text ?? 'The model could not be changed.'), keyboard: [] })
  })
  return feature
}

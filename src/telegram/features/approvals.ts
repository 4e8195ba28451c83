import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { APPROVAL_PREFIX, parseApprovalData } from '../approval-message.ts'
import { permissionModeFor } from '../../core/chat-run.ts'

const REVOKE_PREFIX = 'apr:'

/**
 * The buttons of a tool request (docs/approvals.md) and `/permissions`. The access gate already let
 * only allowed users through; a press answers only a request that is still waiting and was shown in
 * this chat, so a replayed, forged or late press changes nothing (the core decides, src/core/approvals.ts).
 */
export function approvalsFeature (deps: BotDeps): Composer<BotContext> {
  const feature = new Composer<BotContext>()
  const approvals = deps.parts.approvals
  if (approvals === undefined) return feature

  feature.callbackQuery(new RegExp(`^${APPROVAL_PREFIX}`), async (ctx) => {
    const press = parseApprovalData(ctx.callbackQuery.data)
    const result = press === null ? 'unknown' : approvals.answer(press.id, press.action, { via: 'telegram', chatId: ctx.ductor.key, userId: ctx.ductor.userId })
    const text = result === 'ok' ? 'Done.' : result === 'settled' ? 'Too late: it was denied at the timeout.' : 'This request is no longer waiting (answered, expired or unknown).'
    await ctx.answerCallbackQuery({ text }).catch(() => {})
  })

  const list = async (ctx: BotContext, note = ''): Promise<void> => {
    const rules = approvals.rules(ctx.ductor.key)
    const mode = permissionModeFor(deps.config(), ctx.ductor.key)
    const lines = [
      ...(note !== '' ? [note, ''] : []),
      `Permission mode of this chat: **${mode}**${mode === 'ask' ? ' (risky tools ask here first)' : ''}.`,
      '',
      rules.length === 0 ? 'No tool is always allowed here.' : 'Always allowed here:',
      ...rules.map((r, i) => `${i + 1}. \`${r.rule}\``)
    ]
    const buttons = rules.map((r, i) => [{ text: `Revoke ${i + 1}`, callback_data: `${REVOKE_PREFIX}${r.id}` }])
    await deps.sendMarkdown(ctx.ductor, lines.join('\n'), { buttons })
  }
  deps.telegramCommands.set('permissions', async (ctx, args) => {
    const revoke = /^revoke\s+([0-9a-f]{8})$/.exec(args.trim())
    if (revoke?.[1] !== undefined) {
      const done = await approvals.revokeRule(revoke[1], ctx.ductor.key)
      return await list(ctx, done ? 'Revoked.' : 'No such rule in this chat.')
    }
    await list(ctx)
  })
  feature.callbackQuery(new RegExp(`^${REVOKE_PREFIX}([0-9a-f]{8})$`), async (ctx) => {
    const done = await approvals.revokeRule(ctx.match[1] ?? '', ctx.ductor.key)
    await ctx.answerCallbackQuery({ text: done ? 'Revoked.' : 'Already gone.' }).catch(() => {})
    if (done) await list(ctx, 'Revoked.')
  })
  return feature
}

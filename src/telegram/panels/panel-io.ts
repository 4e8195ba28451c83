import type { Context } from 'grammy'
import { classifyApiError } from '../stream/api-errors.ts'
import { markup, type Panel } from './keyboard.ts'

/** Message options of a panel; no keyboard at all when it has no buttons (an edit then removes the old one). */
function options (panel: Panel): { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, reply_markup?: ReturnType<typeof markup> } {
  return { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...(panel.keyboard.length > 0 ? { reply_markup: markup(panel.keyboard) } : {}) }
}

/** Sends a panel as a new message (in the forum topic of the command, if any). */
export async function sendPanel (ctx: Context, panel: Panel): Promise<void> {
  await ctx.reply(panel.html, options(panel))
}

/**
 * Shows a panel in place of the message whose button was pressed. "Not modified" (the same
 * panel again, e.g. a double tap) is not an error; a panel message that is gone gets a new one.
 */
export async function editPanel (ctx: Context, panel: Panel): Promise<void> {
  try {
    await ctx.editMessageText(panel.html, options(panel))
  } catch (err) {
    const kind = classifyApiError(err).kind
    if (kind === 'not_modified') return
    if (kind === 'not_found') return await sendPanel(ctx, panel)
    throw err
  }
}

/** Answers the button press (with a short toast when `text` is given); never throws. */
export async function answer (ctx: Context, text?: string, alert = false): Promise<void> {
  await ctx.answerCallbackQuery(text === undefined ? undefined : { text, show_alert: alert }).catch(() => {})
}

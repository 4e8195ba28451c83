import type { BotDeps } from '../bot-deps.ts'
import { escapeHtml } from '../format/html.ts'
import { button } from './keyboard.ts'
import { describeUpdate, readUpdateState, upgradeCheckout, writeUpdateState, type AvailableUpdate, type UpdateProbe } from '../../ops/update-source.ts'
import { writeUpgradeMarker } from '../../ops/upgrade-notice.ts'

/**
 * The "update available" notice (issue 17, as the Python version has it): its text and buttons, the
 * once-per-update announcement, and the upgrade of a git checkout. The buttons are handled in
 * features/update-notice.ts.
 */
export const UPDATE_LOG = 'upd:log'
export const UPDATE_GO = 'upd:go'
export const UPDATE_LATER = 'upd:later'

const noticeKeyboard = [[button('📝 Changelog', UPDATE_LOG), button('⬆️ Upgrade', UPDATE_GO), button('⏰ Later', UPDATE_LATER)]]

export function noticeHtml (u: AvailableUpdate): string {
  return `⬆️ <b>Update available:</b> ductor ${escapeHtml(describeUpdate(u))} (this is ${escapeHtml(u.current)}).`
}

/**
 * Announces `probe`'s answer when it is a newer ductor not announced before; quiet otherwise (an
 * offline machine, no upstream, nothing new). Returns what it did, for the log and the tests.
 */
export async function announceUpdate (deps: BotDeps, probe: UpdateProbe): Promise<'announced' | 'known' | 'none'> {
  const state = await readUpdateState(deps.paths.state)
  const now = new Date(deps.parts.clock.now()).toISOString()
  if (probe.status !== 'newer') {
    await writeUpdateState(deps.paths.state, { ...state, checked_at: now })
    return 'none'
  }
  if (state.announced === probe.update.id) {
    await writeUpdateState(deps.paths.state, { ...state, checked_at: now })
    return 'known'
  }
  await writeUpdateState(deps.paths.state, { announced: probe.update.id, checked_at: now, update: probe.update })
  for (const chatId of deps.config().allowed_user_ids) {
    await deps.api.sendMessage(chatId, noticeHtml(probe.update), { parse_mode: 'HTML', reply_markup: { inline_keyboard: noticeKeyboard } })
      .catch((err: unknown) => { deps.logger.warn({ err, chatId }, 'could not send the update notice') })
  }
  return 'announced'
}

export async function upgradeGit (deps: BotDeps, u: AvailableUpdate, chatId: number): Promise<{ html: string, restart: boolean }> {
  const root = deps.updates.root
  const result = await upgradeCheckout(deps.updates.runner, root)
  if (!result.ok) return { html: `The upgrade failed: ${escapeHtml(result.message)}.\nductor ${escapeHtml(u.current)} keeps running; the checkout is <code>${escapeHtml(root)}</code>.`, restart: false }
  await writeUpgradeMarker(deps.paths.state, { from: u.current, to: u.latest, chat_id: chatId, requested_at: new Date(deps.parts.clock.now()).toISOString() })
  return { html: `Updated the checkout (${escapeHtml(describeUpdate(u))}). Restarting now; I will say so here when I am back.`, restart: true }
}

import { escapeHtml } from '../format/html.ts'
import { manualUpgradeHint, type InstallKind, type UpdateCheck } from '../../ops/upgrade.ts'
import { writeUpgradeMarker } from '../../ops/upgrade-notice.ts'
import { button, type Panel } from './keyboard.ts'

/**
 * `/upgrade` (SPEC §4): ask the npm registry, say plainly when it cannot be reached, offer an
 * Upgrade button; the press checks again (the button carries no version, so nothing but the
 * registry's `latest` is ever installed), installs it with npm, leaves the upgrade marker
 * (src/ops/upgrade-notice.ts) so the new process tells this chat, and asks for a restart.
 */
export const UPGRADE_DATA = 'upg:go'

export interface UpgradeFlowDeps {
  current: string
  check: () => Promise<UpdateCheck>
  install: (version: string) => Promise<{ ok: true } | { ok: false, message: string }>
  kind: InstallKind
  root: string
  stateDir: string
  now: () => number
}

export async function upgradeOffer (deps: UpgradeFlowDeps): Promise<Panel> {
  const check = await deps.check()
  if (check.status === 'error') return { html: `Cannot check for updates: ${escapeHtml(check.message)}.\nThis is ductor ${escapeHtml(deps.current)}. To upgrade by hand, ${escapeHtml(manualUpgradeHint(deps.kind, deps.root))}.`, keyboard: [] }
  if (!check.newer) return { html: `ductor ${escapeHtml(deps.current)} is up to date (latest: ${escapeHtml(check.latest)}).`, keyboard: [] }
  if (deps.kind === 'git') return { html: gitNote(deps.root, check.latest, deps.current), keyboard: [] }
  return {
    html: `ductor <b>${escapeHtml(check.latest)}</b> is available (this is ${escapeHtml(deps.current)}).\nUpgrade installs it with npm and restarts ductor.`,
    keyboard: [[button(`Upgrade to ${check.latest}`.slice(0, 60), UPGRADE_DATA)]]
  }
}

function gitNote (root: string, latest: string, current: string): string {
  return `ductor ${escapeHtml(latest)} is available (this is ${escapeHtml(current)}), but this ductor runs from a git checkout (<code>${escapeHtml(root)}</code>): ` +
    'update it there with <code>git pull &amp;&amp; npm ci &amp;&amp; npm run build</code>, then /restart.'
}

/** Runs the upgrade; `restart` says whether the caller should now restart the service. */
export async function performUpgrade (deps: UpgradeFlowDeps, chatId: number): Promise<{ html: string, restart: boolean }> {
  const check = await deps.check()
  if (check.status === 'error') return { html: `Cannot check for updates: ${escapeHtml(check.message)}. Nothing was changed.`, restart: false }
  if (!check.newer) return { html: `ductor ${escapeHtml(deps.current)} is already up to date.`, restart: false }
  if (deps.kind === 'git') return { html: gitNote(deps.root, check.latest, deps.current), restart: false }
  const installed = await deps.install(check.latest)
  if (!installed.ok) return { html: `The upgrade failed: ${escapeHtml(installed.message)}.\nductor ${escapeHtml(deps.current)} keeps running.`, restart: false }
  await writeUpgradeMarker(deps.stateDir, { from: deps.current, to: check.latest, chat_id: chatId, requested_at: new Date(deps.now()).toISOString() })
  return { html: `Installed ductor ${escapeHtml(check.latest)}. Restarting now; I will say so here when I am back.`, restart: true }
}

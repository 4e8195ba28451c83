import type { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { queueCancelFeature } from './queue-cancel.ts'
import { approvalsFeature } from './approvals.ts'
import { startFeature } from './start.ts'
import { restartFeature } from './restart.ts'
import { modelPanelFeature } from './model-panel.ts'
import { cronPanelFeature } from './cron-panel.ts'
import { showFilesFeature } from './show-files.ts'
import { diagnoseFeature } from './diagnose.ts'
import { infoFeature } from './info.ts'
import { upgradeFeature } from './upgrade.ts'
import { updateNoticeFeature } from './update-notice.ts'
import { commandsFeature } from './commands.ts'
import { replyButtonsFeature } from './reply-buttons.ts'
import { mediaFeature } from './media.ts'
import { textFeature } from './text.ts'

/** One feature: a Composer built from the shared deps (one per file, ≤ 60 lines). */
export type Feature = (deps: BotDeps) => Composer<BotContext>

/**
 * THE list of features, in the order they see an update (after the access gate). Panels with their
 * own callback data go first (they also add their commands to `deps.telegramCommands`); then every
 * command, typed or from a button (commands.ts); then the catch-alls: an agent's `[button:…]` (any
 * other callback data), media, and finally plain text to the core.
 */
export const features: Feature[] = [
  queueCancelFeature,
  approvalsFeature,
  startFeature,
  restartFeature,
  modelPanelFeature,
  cronPanelFeature,
  showFilesFeature,
  diagnoseFeature,
  infoFeature,
  upgradeFeature,
  updateNoticeFeature,
  commandsFeature,
  replyButtonsFeature,
  mediaFeature,
  textFeature
]

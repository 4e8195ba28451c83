import type { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import type { BotDeps } from '../bot-deps.ts'
import { queueCancelFeature } from './queue-cancel.ts'
import { startFeature } from './start.ts'
import { helpFeature } from './help.ts'
import { restartFeature } from './restart.ts'
import { commandButtonsFeature } from './command-buttons.ts'
import { replyButtonsFeature } from './reply-buttons.ts'
import { mediaFeature } from './media.ts'
import { textFeature } from './text.ts'

/** One feature: a Composer built from the shared deps (one per file, ≤ 60 lines). */
export type Feature = (deps: BotDeps) => Composer<BotContext>

/**
 * THE list of features, in the order they see an update (after the access gate). Commands and
 * panels with their own callback data go before the catch-alls at the end: a command-data button,
 * an agent's `[button:…]` (any other callback data), media, and finally plain text to the core.
 */
export const features: Feature[] = [
  queueCancelFeature,
  startFeature,
  helpFeature,
  restartFeature,
  // Panels (/model keyboard, /cron, /showfiles, /diagnose, /info, /upgrade) go here.
  commandButtonsFeature,
  replyButtonsFeature,
  mediaFeature,
  textFeature
]

import type { Api } from 'grammy'
import type { Config } from '../config.ts'
import type { Clock } from '../clock.ts'
import type { Orchestrator } from '../core/orchestrator.ts'
import type { Approvals } from '../core/approvals.ts'
import type { SessionStore } from '../core/session-store.ts'
import type { CronControl } from '../automation/cron-control.ts'
import type { Inbox } from '../store/inbox.ts'
import type { RunHistory } from '../store/run-history.ts'
import type { ClaimGate, WorkClaim } from '../claims.ts'
import type { HomePaths } from '../home/paths.ts'
import type { Logger } from '../logger-types.ts'
import type { CommandRunner } from '../ops/runner.ts'
import type { InlineButton } from './format/markers.ts'
import type { ChatTarget } from './context.ts'
import type { IncomingMedia } from './media-in.ts'
import type { BotContext } from './context.ts'

/** A command the adapter shows itself (a panel), typed or from a button; `args` is what follows the name. */
export type TelegramCommand = (ctx: BotContext, args: string) => Promise<unknown>

/** The few parts of the service the Telegram adapter uses (the plugin picks them from the app). */
export interface TelegramParts {
  orchestrator: Pick<Orchestrator, 'handleMessage' | 'cancel' | 'isBusy' | 'setDefaultSink' | 'commands'>
  inbox: Pick<Inbox, 'handle' | 'accept' | 'progress'>
  sessions: SessionStore
  runs: Pick<RunHistory, 'interruptedAtOpen'>
  cron: CronControl
  /** Every CLI run is made for a claim (src/claims.ts); a message of no update gets a fresh one. */
  claims: Pick<ClaimGate, 'claim' | 'shutSignal'>
  clock: Clock
  timezone: () => string
  providerStatus: () => Promise<Record<'claude' | 'codex', string>>
  /** Whether each CLI is installed and logged in (the /start auth block). */
  cliLogins: () => Promise<Record<'claude' | 'codex', { installed: boolean, loggedIn: boolean }>>
  /** CLI processes running now (/diagnose). */
  activeRuns: () => number
  /** Replaces every live secret with `[REDACTED]` (the service's one secret set, src/secret-mask.ts). */
  mask: (text: string) => string
  /** Tool approvals (permission_mode "ask"); absent, no approval buttons or /permissions. */
  approvals?: Approvals
}

/** What the Fastify plugin gives the Telegram adapter. */
export interface BotOptions {
  parts: TelegramParts
  /** The live config (PATCH /api/config applies at once). */
  config: () => Config
  paths: HomePaths
  logger: Logger
  version: string
  /** Graceful stop with exit code 42 so the supervisor starts the service again (`/restart`, `/upgrade`). */
  requestRestart: () => void
  /** Whether anything starts the service again after exit 42 (src/ops/restarter.ts). */
  restartable: () => boolean
  /** Where updates come from (default: this copy's package root, the real command runner). */
  updates?: Partial<UpdateSettings>
}

/** How this copy is checked for updates and upgraded (the update notice, /upgrade). */
export interface UpdateSettings {
  /** The root of this copy of ductor (a git checkout or an installed package). */
  root: string
  runner: CommandRunner
  /** The first check after the start, in ms (default one minute); later ones follow `telegram.update_check_hours`. */
  firstDelayMs: number
}

/** A command in the bot's menu (setMyCommands) and in /help. */
export interface BotCommandEntry {
  command: string
  description: string
}

export interface RunAsUserOptions {
  /** Reply to this message (queued indicators hang off it). */
  replyTo?: number
  /** Image files for the CLI (Codex `--image`). */
  images?: string[]
  /**
   * The claim of the update(s) the message came from (`ctx.ductor.claim`; an album passes one for
   * all its items): its run's CLI starts only once this has recorded the start (src/core/claims.ts).
   */
  claim: WorkClaim
}

export interface SendOptions {
  /** Inline keyboard rows under the (last) message. */
  buttons?: InlineButton[][]
  replyTo?: number
}

/**
 * What every feature receives (`(deps) => Composer<BotContext>`). Features use the context's `ctx.api`
 * for their own calls and these helpers for what the adapter shares.
 */
export interface BotDeps extends BotOptions {
  api: Api
  updates: UpdateSettings
  /**
   * Runs `text` as the user's next message in the chat, exactly as if they had typed it: commands
   * go to the core registry, abort words stop the run, anything else goes through the chat's lane
   * with a queued indicator, typing, a streamed reply, buttons and files. Returns at once; the run
   * goes on in the background (errors are logged and told to the user, never thrown).
   */
  runAsUser: (where: ChatTarget, text: string, opts: RunAsUserOptions) => Promise<void>
  /** The claim of an update being handled (the inbox's; a fresh one for an update that is not journaled). */
  claimOf: (update: object) => WorkClaim
  /** Sends Markdown (rendered to Telegram HTML, split at 4096, plain text if Telegram refuses the HTML). */
  sendMarkdown: (where: ChatTarget, markdown: string, opts?: SendOptions) => Promise<number[]>
  /**
   * The commands of the command table (src/core/command-table.ts) that the adapter answers itself,
   * by name; features add theirs when they are built. Typed or pressed, they run from here.
   */
  telegramCommands: Map<string, TelegramCommand>
  /** Whether a Telegram user may talk to the bot (`allowed_user_ids`). */
  isAllowed: (userId: number | undefined) => boolean
  /** The command menu (setMyCommands, /help): the core's listed commands and the adapter's own. */
  commandList: () => BotCommandEntry[]
  /** Downloads a file the user sent into `workspace/telegram_files/YYYY-MM-DD/`; returns its path (FileTooLargeError when Telegram will not serve it). */
  downloadMedia: (media: IncomingMedia) => Promise<string>
}

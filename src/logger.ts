import { mkdirSync, renameSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino'
import { createRequire } from 'node:module'
import type PinoPretty from 'pino-pretty'
import { createSecretMask, type SecretMask } from './secret-mask.ts'

export type { Logger } from 'pino'

/** Field paths pino removes from every log line (SPEC §11: secrets never appear in logs). */
const REDACT_PATHS = [
  'token', '*.token', 'telegram_token', '*.telegram_token', 'secret', '*.secret', 'hmac_secret', '*.hmac_secret',
  'webhook_secret', '*.webhook_secret', 'stt_api_key', '*.stt_api_key', 'authorization', '*.authorization',
  'req.headers.authorization', 'req.headers["x-telegram-bot-api-secret-token"]', 'req.headers.cookie',
  'headers.authorization', 'headers["x-telegram-bot-api-secret-token"]', 'headers["stripe-signature"]',
  'headers["x-hub-signature-256"]', 'headers["x-slack-signature"]', 'headers["webhook-signature"]'
]

/**
 * Known secret values are scrubbed from every serialized line as a last line of defence (an error
 * message holding a URL with the bot token, say), with the service's live secret set (src/secret-mask.ts).
 */
function scrubbing (inner: DestinationStream, scrubber: SecretMask): DestinationStream {
  return { write: (line: string) => inner.write(scrubber.mask(line)) }
}

export interface LoggerOptions {
  level: string
  /** Folder for the log file (`ductor.log`, rotated at `maxFileBytes`); none = stdout only. */
  logDir?: string
  pretty?: boolean
  scrubber?: SecretMask
  maxFileBytes?: number
  /** Extra destination (tests collect lines here). */
  extra?: DestinationStream
  quietStdout?: boolean
}

/**
 * pino-pretty only for a terminal: a service writing JSON never loads it (about 10 MB of RSS and
 * 35 ms of start-up; docs/benchmarks.md, P4).
 */
function loadPretty (): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
}

/** The one pino instance: JSON to stdout (pretty on a TTY), a rotated file in logs/, secrets redacted. */
export function createLogger (opts: LoggerOptions): { logger: Logger, close: () => void } {
  const scrubber = opts.scrubber ?? createSecretMask()
  const streams: StreamEntry[] = []
  const level = opts.level as pino.Level
  if (opts.quietStdout !== true) {
    const out = opts.pretty === true ? loadPretty()({ colorize: true, sync: true }) : pino.destination({ dest: 1, sync: false })
    // A terminal that was closed (SIGHUP: EIO) or a reader that went away (EPIPE) ends logging to
    // stdout, silently: the log file goes on, and the graceful stop that follows must not fail on it.
    let gone = false
    const onError = (): void => { gone = true }
    ;(out as unknown as NodeJS.EventEmitter).on?.('error', onError)
    process.stdout.on('error', onError)
    const toStdout = scrubbing(out, scrubber)
    streams.push({
      level,
      stream: {
        write: (line: string) => {
          if (gone) return
          try { toStdout.write(line) } catch { gone = true }
        }
      }
    })
  }
  let file: pino.DestinationStream & { reopen?: () => void, flushSync?: () => void } | undefined
  let timer: NodeJS.Timeout | undefined
  if (opts.logDir !== undefined) {
    mkdirSync(opts.logDir, { recursive: true })
    const path = join(opts.logDir, 'ductor.log')
    const max = opts.maxFileBytes ?? 10 * 1024 * 1024
    rotateIfLarge(path, max)
    const dest = pino.destination({ dest: path, sync: false, mkdir: true })
    file = dest
    // A log file that cannot be opened or written (read-only home, full disk) must not bring the
    // service down: say so once on stderr and go on logging to stdout.
    let failed = false
    dest.on('error', (err: NodeJS.ErrnoException) => {
      if (failed) return
      failed = true
      process.stderr.write(`ductor: cannot write ${path}: ${err.code ?? err.message}; logging to stdout only\n`)
    })
    const toFile = scrubbing(dest, scrubber)
    streams.push({ level, stream: { write: (line: string) => { if (!failed) toFile.write(line) } } })
    timer = setInterval(() => { if (rotateIfLarge(path, max)) dest.reopen() }, 60_000)
    timer.unref()
  }
  if (opts.extra !== undefined) streams.push({ level, stream: scrubbing(opts.extra, scrubber) })
  const logger = pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime
  }, pino.multistream(streams))
  return {
    logger,
    close () {
      if (timer !== undefined) clearInterval(timer)
      try { file?.flushSync?.() } catch {}
    }
  }
}

/** Keeps three old files: ductor.log.1 (newest) … ductor.log.3. */
function rotateIfLarge (path: string, max: number): boolean {
  try {
    if (!existsSync(path) || statSync(path).size < max) return false
    for (let i = 2; i >= 1; i--) {
      if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`)
    }
    renameSync(path, `${path}.1`)
    return true
  } catch {
    return false
  }
}

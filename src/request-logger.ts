import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LogFn = FastifyBaseLogger['info']

/**
 * The logger Fastify hands each request (`request.log`), made only when a line is written: a pino
 * child per request serializes its bindings (the request id) through the redaction paths, which cost
 * more than an ordinary request's own work when, as on most requests, nothing is logged
 * (docs/benchmarks.md, F2; ADR 0033). A line written at an enabled level goes through a real child
 * made on first use, so every line carries the same bindings, redaction and scrubbing as before.
 */
class LazyRequestLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent
    this.#bindings = bindings
  }

  get level (): string { return (this.#child ?? this.#parent).level }
  set level (value: string) { this.#real().level = value }

  #real (): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings)
    return this.#child
  }

  #write (level: Level, args: Parameters<LogFn>): void {
    const logger = this.#child ?? (enabled(this.#parent, level) ? this.#real() : undefined)
    if (logger === undefined) return
    ;(logger[level] as (...a: unknown[]) => void)(...args)
  }

  fatal (...args: Parameters<LogFn>): void { this.#write('fatal', args) }
  error (...args: Parameters<LogFn>): void { this.#write('error', args) }
  warn (...args: Parameters<LogFn>): void { this.#write('warn', args) }
  info (...args: Parameters<LogFn>): void { this.#write('info', args) }
  debug (...args: Parameters<LogFn>): void { this.#write('debug', args) }
  trace (...args: Parameters<LogFn>): void { this.#write('trace', args) }
  silent (): void {}
  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger { return this.#real().child(bindings, options) }
}

function enabled (logger: FastifyBaseLogger, level: Level): boolean {
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return typeof check !== 'function' || check.call(logger, level)
}

/** Fastify's documented `childLoggerFactory`: a real child only for a route with its own log level or serializers. */
export const lazyRequestLogger: ChildLoggerFactory = function (logger, bindings, opts) {
  if (opts.level !== undefined || opts.serializers !== undefined) return logger.child(bindings, opts)
  return new LazyRequestLogger(logger, bindings) as unknown as FastifyBaseLogger
}

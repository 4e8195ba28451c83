/** The logger every core module receives. It is pino's, so child loggers and redaction work. */
export type { Logger } from 'pino'

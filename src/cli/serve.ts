import { Command } from 'commander'
import { runServe } from './supervise.ts'
import type { CliIo } from './io.ts'

/**
 * `ductor serve`: runs the service. By default it supervises (src/cli/supervise.ts): the service runs
 * in a child process that is started again when it exits with 42 (`/restart`, an upgrade) or, after
 * a backoff, when it died (ADR 19). SIGINT, SIGTERM and SIGHUP are passed on (the service stops once
 * however many copies reach it: Ctrl-C signals the whole group, supervisor and service alike).
 * Whenever the child exits, for whatever reason, the CLI process groups it recorded are ended before
 * anything else (ADR 1, issue 14).
 */
export function serveCommand (io: CliIo): Command {
  return new Command('serve')
    .description('run the ductor service (the default command)')
    .option('--no-supervisor', 'run the service in this process; do not restart it when it exits with 42 or dies')
    .action(async (opts: { supervisor: boolean }) => {
      await runServe(opts.supervisor, io.env)
    })
}

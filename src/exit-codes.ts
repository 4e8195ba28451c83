/** Exit codes of the service, shared by the service, its supervisor (`ductor serve`) and the systemd unit. */
import { constants } from 'node:os'

/** `/restart` and upgrades: the supervisor (or systemd) starts the service again. */
export const RESTART_EXIT_CODE = 42

/** A startup config error: restarting cannot fix it. */
export const CONFIG_ERROR_EXIT_CODE = 2

/**
 * Another ductor holds the home's lock (ADR 43): not a crash. Nothing was touched; the supervisor
 * and systemd do not start it again. 75 is sysexits' EX_TEMPFAIL: it can start once the other stops.
 */
export const ALREADY_RUNNING_EXIT_CODE = 75

/**
 * Only to bin/ductor (which sets DUCTOR_LAUNCHER=1): "this command line is a supervised serve; start
 * the service under your sh supervisor" (97: with `--verbose`). No command exits so otherwise (ADR 46).
 */
export const SUPERVISE_EXIT_CODE = 96
export const SUPERVISE_VERBOSE_EXIT_CODE = 97

/** The exit status a shell reports for a process ended by `signal`: 128 + its number (SIGTERM → 143). */
export function signalExitCode (signal: string): number {
  return 128 + ((constants.signals as Record<string, number | undefined>)[signal] ?? 0)
}

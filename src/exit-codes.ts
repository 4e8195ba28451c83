/** Exit codes of the service, shared by the service, its supervisor (`ductor serve`) and the systemd unit. */

/** `/restart` and upgrades: the supervisor (or systemd) starts the service again. */
export const RESTART_EXIT_CODE = 42

/** A startup config error: restarting cannot fix it. */
export const CONFIG_ERROR_EXIT_CODE = 2

import { join } from 'node:path'
import type { ServiceSpec } from './service-spec.ts'
import { ALREADY_RUNNING_EXIT_CODE, CONFIG_ERROR_EXIT_CODE, RESTART_EXIT_CODE } from '../exit-codes.ts'

export const SYSTEMD_UNIT_NAME = 'ductor.service'

/** Seconds systemd waits after SIGTERM before it kills what is left of the service's process tree. */
const STOP_TIMEOUT_SECONDS = 30

/** `~/.config/systemd/user/ductor.service` (or under `$XDG_CONFIG_HOME`). */
export function systemdUnitPath (env: NodeJS.ProcessEnv, userHome: string): string {
  const xdg = env['XDG_CONFIG_HOME']
  const base = xdg !== undefined && xdg !== '' && xdg.startsWith('/') ? xdg : join(userHome, '.config')
  return join(base, 'systemd', 'user', SYSTEMD_UNIT_NAME)
}

/**
 * The systemd user unit. systemd is the supervisor here, so the service runs without its own
 * (`serve --no-supervisor`): `Restart=always` brings it back after a crash and after `/restart` or an
 * upgrade (exit 42, also listed in RestartForceExitStatus so it holds if Restart= is changed), but not
 * after a config error (exit 2), which a restart cannot fix, nor when another ductor holds the home
 * (exit 75, ADR 43). `KillMode=mixed`: SIGTERM goes to the
 * service, which aborts its runs and reaps the CLIs; whatever is left in the control group (a CLI's
 * own children in their process groups) is SIGKILLed after the service exits or TimeoutStopSec.
 */
export function renderSystemdUnit (spec: ServiceSpec): string {
  const env = [`PATH=${spec.pathDirs.join(':')}`]
  if (spec.home !== null) env.push(`DUCTOR_HOME=${spec.home}`)
  return [
    '# Written by `ductor service install`; run it again after moving ductor or changing Node.',
    '# Local changes: `systemctl --user edit ductor` (a drop-in survives a reinstall).',
    '[Unit]',
    'Description=ductor personal AI assistant (Telegram, Claude Code / Codex CLIs)',
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[execWord(spec.nodePath, false), ...[spec.entry, 'serve', '--no-supervisor'].map((a) => execWord(a, true))].join(' ')}`,
    ...env.map((assignment) => `Environment=${quote(specifiers(assignment))}`),
    'Restart=always',
    'RestartSec=2',
    `RestartForceExitStatus=${RESTART_EXIT_CODE}`,
    `SuccessExitStatus=${RESTART_EXIT_CODE}`,
    `RestartPreventExitStatus=${CONFIG_ERROR_EXIT_CODE} ${ALREADY_RUNNING_EXIT_CODE}`,
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_TIMEOUT_SECONDS}`,
    'UMask=0077',
    'SyslogIdentifier=ductor',
    '',
    '[Install]',
    'WantedBy=default.target',
    ''
  ].join('\n')
}

/**
 * One ExecStart word: `%` escaped (specifiers), `$` escaped in arguments (systemd expands variables
 * there, not in the program path), quoted when it holds anything but plain path characters.
 */
function execWord (word: string, argument: boolean): string {
  const escaped = argument ? specifiers(word).replace(/\$/g, '$$$$') : specifiers(word)
  return /^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped) ? escaped : quote(escaped)
}

function specifiers (text: string): string {
  if (/[\n\r\0]/.test(text)) throw new Error(`cannot put ${JSON.stringify(text)} in a systemd unit: it holds a line break or NUL`)
  return text.replace(/%/g, '%%')
}

function quote (text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

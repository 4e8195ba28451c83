import { readFileSync } from 'node:fs'
import { LAUNCHD_LABEL } from './launchd.ts'
import { SYSTEMD_UNIT_NAME } from './systemd.ts'

/**
 * Who starts the service again when it exits with 42 (`/restart`, an upgrade, `ductor restart`):
 * `ductor serve`'s supervisor while it is alive (the service is still its child), systemd (a unit
 * sets INVOCATION_ID for the processes it starts), launchd (XPC_SERVICE_NAME is the agent's label).
 * Null when nothing would: `ductor serve --no-supervisor` by hand, or a supervisor that was killed
 * (the service is then re-parented). There a restart would only stop the service, so it is refused
 * (`/restart`) or done by stopping and starting it (`ductor restart`).
 */
export type Restarter = 'supervisor' | 'systemd' | 'launchd'

export function serviceRestarter (env: NodeJS.ProcessEnv, supervised: boolean, parentAtStart: number, parentNow: number = process.ppid, cgroup: string | null = ownCgroup()): Restarter | null {
  if (supervised && parentAtStart > 1 && parentNow === parentAtStart) return 'supervisor'
  // Anything a unit starts inherits its INVOCATION_ID (a tmux user service, a CI runner): only ductor's
  // own unit restarts it after exit 42. Where the cgroup cannot be read, INVOCATION_ID alone decides.
  if ((env['INVOCATION_ID'] ?? '') !== '' && (cgroup === null || cgroup.split('\n').some((line) => line.endsWith(`/${SYSTEMD_UNIT_NAME}`)))) return 'systemd'
  if (env['XPC_SERVICE_NAME'] === LAUNCHD_LABEL) return 'launchd'
  return null
}

/** This process's cgroups (`/proc/self/cgroup`), or null where they cannot be read. */
function ownCgroup (): string | null {
  try {
    return readFileSync('/proc/self/cgroup', 'utf8')
  } catch {
    return null
  }
}

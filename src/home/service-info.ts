import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-json.ts'
import { isSameProcess, processMark } from './process-identity.ts'

/** What a running service tells local clients (`ductor status`, the API client): `state/service.json`. */
export interface ServiceInfo {
  pid: number
  /** The public listener (/health, /hooks, Telegram). */
  url: string
  /** The admin API's listener (/api); null when the admin API is off; absent in files of older versions (then /api was on `url`). */
  admin_url?: string | null
  version: string
  started_at: string
  /** Runs under `ductor serve`'s supervisor, which starts it again after exit code 42 (`ductor restart` sends SIGUSR2). */
  supervised?: boolean
  /** The supervisor's pid (the service's parent when it started); `ductor restart` signals only a service whose supervisor still is its parent. */
  supervisor_pid?: number
  /** The service process's start time and boot id (ADR 43): a pid reused by another process does not count as running. Absent in files of older versions. */
  pid_start?: string
  boot_id?: string
}

const serviceInfoPath = (stateDir: string): string => join(stateDir, 'service.json')

export async function writeServiceInfo (stateDir: string, info: ServiceInfo): Promise<void> {
  const mark = info.pid_start === undefined ? processMark(info.pid) : null
  await writeJsonAtomic(serviceInfoPath(stateDir), mark === null ? info : { ...info, pid_start: mark.start, boot_id: mark.boot })
}

export async function removeServiceInfo (stateDir: string, pid = process.pid): Promise<void> {
  const info = await readServiceInfo(stateDir)
  if (info?.pid === pid) await unlink(serviceInfoPath(stateDir)).catch(() => {})
}

/** The running service's info, or null when none runs (a file left by a dead process, or naming a pid another process now has, is ignored). */
export async function readServiceInfo (stateDir: string): Promise<ServiceInfo | null> {
  try {
    const info = JSON.parse(await readFile(serviceInfoPath(stateDir), 'utf8')) as ServiceInfo
    return typeof info.pid === 'number' && isSameProcess(info.pid, { start: info.pid_start, boot: info.boot_id }) ? info : null
  } catch {
    return null
  }
}

/**
 * `state/supervisor.json`: the sh supervisor of `ductor serve` (ADR 46), written by each service it
 * starts. It outlives a service that died: while the supervisor waits to start the next one (the
 * crash backoff, up to 30 s) no service holds the lock, and this is how `ductor stop`, `restart` and
 * `status` still find it. Believed only while that very process lives (its start time, ADR 43).
 */
const supervisorInfoPath = (stateDir: string): string => join(stateDir, 'supervisor.json')

export async function writeSupervisorInfo (stateDir: string, pid: number): Promise<void> {
  const mark = processMark(pid)
  if (mark === null) return
  await writeJsonAtomic(supervisorInfoPath(stateDir), { pid, pid_start: mark.start, boot_id: mark.boot })
}

/** The pid of this home's live supervisor, or null. */
export async function readLiveSupervisor (stateDir: string): Promise<number | null> {
  try {
    const info = JSON.parse(await readFile(supervisorInfoPath(stateDir), 'utf8')) as { pid?: unknown, pid_start?: unknown, boot_id?: unknown }
    if (typeof info.pid !== 'number' || typeof info.pid_start !== 'string' || info.pid_start === '') return null
    // Only a start time read now and equal to the recorded one counts: it is signalled (stop, restart).
    if (processMark(info.pid)?.start !== info.pid_start) return null
    return isSameProcess(info.pid, { start: info.pid_start, boot: typeof info.boot_id === 'string' ? info.boot_id : '' }) ? info.pid : null
  } catch {
    return null
  }
}

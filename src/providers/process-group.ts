/**
 * Signals to a whole process group. Children are spawned `detached`, so each CLI leads its own
 * group and `kill(-pid)` reaches the CLI and everything it started (tools, shells, servers).
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Sends `signal` to the group led by `pgid`; false when no process of the group is left. */
export function signalGroup (pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

/**
 * Whether a live (non-zombie) process is left in the group. A zombie cannot be killed and
 * waits for its parent (or init) to reap it, so it does not count. Outside Linux, where
 * /proc is missing, any process of the group counts.
 */
export function groupHasLiveMembers (pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return true
  }
  for (const entry of entries) {
    const code = entry.charCodeAt(0)
    if (code < 48 || code > 57) continue
    const stat = readStat(entry)
    if (stat !== null && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') return true
  }
  return false
}

/**
 * State letter, process group and start time (field 22: clock ticks since boot, which tells a reused
 * pid apart) of a pid, from /proc/<pid>/stat; null when it is gone.
 */
export function readStat (pid: number | string): { state: string, ppid: number, pgid: number, start: string } | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { state: fields[0] ?? '', ppid: Number(fields[1]), pgid: Number(fields[2]), start: fields[19] ?? '' }
}

/** Whether `pid` is a live process (exists and is not a zombie). */
export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = readStat(pid)
  return stat === null ? process.platform !== 'linux' : stat.state !== 'Z' && stat.state !== 'X'
}

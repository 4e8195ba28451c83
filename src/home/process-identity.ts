/**
 * Which process a pid is (ADR 43). A pid alone names whatever process the system gave that number
 * last: after a `kill -9`, an OOM kill or a reboot, `ductor.pid` or `state/service.json` can name a
 * shell, a `sleep`, or init. So the files that name a ductor process keep its start time next to the
 * pid, and a reader believes the pid only when the process there started at that time.
 *
 * The start time: on Linux field 22 of /proc/<pid>/stat (clock ticks since boot) with the boot id;
 * elsewhere `ps -o lstart= -p <pid>` (the start date, to the second). Where neither can be read (a
 * file of an older version without the start time, /proc hidden, no `ps`), the process's command
 * line must be a ductor service's (`ductor serve`, `node …/ductor.js serve --no-supervisor`, a bare
 * `ductor`; not `ductor logs -f`); where that cannot be read either, the pid is believed, as before.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { readStat } from '../providers/process-group.ts'

/** A process's start time and the boot it started in ('' where the system has no boot id). */
export interface ProcessMark { start: string, boot: string }

const LINUX = process.platform === 'linux'

export function bootId (): string {
  if (!LINUX) return ''
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return ''
  }
}

/** The start mark of `pid`, or null when it is gone or its start time cannot be read. */
export function processMark (pid: number): ProcessMark | null {
  if (LINUX) {
    const stat = readStat(pid)
    return stat === null || stat.start === '' ? null : { start: stat.start, boot: bootId() }
  }
  const start = ps(pid, 'lstart=')
  return start === null || start === '' ? null : { start, boot: '' }
}

/** The parent pid of `pid` (/proc on Linux, `ps` elsewhere), or null when it is gone or cannot be read. */
export function parentPid (pid: number): number | null {
  const ppid = LINUX ? readStat(pid)?.ppid : Number(ps(pid, 'ppid=') ?? NaN)
  return ppid !== undefined && Number.isSafeInteger(ppid) && ppid > 0 ? ppid : null
}

/**
 * Whether `pid` is a live process and, as far as can be told, the one `mark` was taken of (its start
 * time) or, without a mark, a ductor service (its command line). Never true for a zombie or a dead pid.
 */
export function isSameProcess (pid: number, mark: Partial<ProcessMark> | null | undefined): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (LINUX) {
    const stat = readStat(pid)
    if (stat !== null && (stat.state === 'Z' || stat.state === 'X')) return false
  }
  if (typeof mark?.start === 'string' && mark.start !== '') {
    const now = processMark(pid)
    if (now === null) return commandIsDuctorService(pid) ?? true
    if (now.start !== mark.start) return false
    return mark.boot === undefined || mark.boot === '' || now.boot === '' || mark.boot === now.boot
  }
  return commandIsDuctorService(pid) ?? true
}

/**
 * Whether the command line of `pid` is a ductor *service* (`ductor serve`, `ductor serve
 * --no-supervisor`, a bare `ductor`, the Python version's bare `ductor`), not any ductor command:
 * after a crash and pid reuse, `ductor logs -f` or `ductor status` may have the pid an older lock
 * names. Null when the command line cannot be read.
 */
export function commandIsDuctorService (pid: number): boolean | null {
  let words: string[]
  if (LINUX) {
    try {
      words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((w) => w !== '')
    } catch {
      return null
    }
  } else {
    const line = ps(pid, 'command=')
    if (line === null) return null
    words = line.split(/\s+/).filter((w) => w !== '')
  }
  if (words.length === 0) return null // a kernel thread, or a process on its way out
  return isServiceCommand(words)
}

// Options of node (and python) whose value is the next word: `node --import tsx …/entry.ts serve`.
const VALUE_OPTIONS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file', '--title', '--inspect-port', '-C', '--conditions', '-X', '-W'])
// The words before the command: ductor's own global options (`ductor -v serve`).
const GLOBAL_OPTIONS = new Set(['-v', '--verbose', '--no-supervisor'])

/**
 * A command line that runs the service: the program, or the script an interpreter (node, python)
 * runs, is ductor's (`ductor`, `…/bin/ductor.js`, the sources' `src/cli/entry.ts`/`main.ts`), and the
 * command is `serve` or none (serve is the default), without `--help` or `--version`.
 */
export function isServiceCommand (words: readonly string[]): boolean {
  let i = 0
  if (/^(node(js)?|python)[\d.]*$/.test(basename(words[0] ?? ''))) {
    i = 1
    while (i < words.length && (words[i] ?? '').startsWith('-') && words[i] !== '-m') i += VALUE_OPTIONS.has(words[i] ?? '') ? 2 : 1
  }
  // `python -m <module>`: the module is the program.
  const module = words[i] === '-m'
  if (module) i++
  const program = words[i] ?? ''
  const ductors = module ? /^ductor/i.test(program) : /^ductor(\.[cm]?[jt]s)?$/i.test(basename(program)) || /[\\/]cli[\\/](entry|main)\.[cm]?[jt]s$/.test(program)
  if (!ductors) return false
  const rest = words.slice(i + 1)
  if (rest.some((w) => w === '-h' || w === '--help' || w === '-V' || w === '--version')) return false
  const command = rest.find((w) => !GLOBAL_OPTIONS.has(w))
  return command === undefined || command === 'serve'
}

function ps (pid: number, column: string): string | null {
  try {
    // The same words whoever asks: the service (launchd's environment) and a terminal may differ in locale and time zone.
    return execFileSync('ps', ['-o', column, '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } }).trim()
  } catch {
    return null
  }
}

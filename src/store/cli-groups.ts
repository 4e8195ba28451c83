/**
 * The durable list of CLI process groups (issue 14, "No orphans"). Every CLI leads its own process
 * group (the runner spawns it detached) so that it can be stopped with everything it started; a
 * `kill -9` of the service therefore does not reach it. So each group is written here, and synced,
 * before its CLI is let go (the runner's start gate), and the next start of the service, or the
 * supervisor when its child dies, kills every group of that list before anything else happens.
 *
 * A record is the leader's pid, its start time (field 22 of /proc/<pid>/stat, clock ticks since
 * boot) and the boot id: a pid the system has since given to another process does not match, so
 * nothing else is ever killed. Linux only (no /proc elsewhere: nothing is recorded or killed).
 *
 * A run in the Docker sandbox has a second group, inside the container, that no host signal reaches:
 * its record also names it (`inside`: the docker command, the container, the run's id file there,
 * src/sandbox/inside.ts), and it is killed with `docker exec … kill` (ADR 0021).
 *
 * Each record also names the service process that started the group (`owner`, `owner_start`: its
 * pid and start time, ADR 43). Only groups whose owner is dead are killed: a second `ductor serve`
 * on a home already running (refused by the pid lock), or its supervisor, never touches the running
 * one's CLIs. A record of an older version, without an owner, is killed unless a live ductor other
 * than the caller holds the home's lock (`lockPath`).
 *
 * File (`state/cli-groups.jsonl`): `{"pid":123,"start":"456","boot":"…","owner":100,"owner_start":"400"}`
 * per line (plus `"inside":{"docker":…,"container":…,"run":…}` for a sandboxed run), appended;
 * `{"gone":123}` when the group has been reaped. Rewritten empty at each start.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { readPidFile } from '../home/pid-lock.ts'
import { bootId, isSameProcess, processMark } from '../home/process-identity.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../logger-types.ts'
import { openAppendLog, type AppendLog } from './append-log.ts'
import type { CliGroups } from '../providers/runner.ts'
import { readStat } from '../providers/process-group.ts'
import { writeFileAtomic } from '../atomic-json.ts'
import { signalInside, type InsideRun } from '../sandbox/inside.ts'

export type { CliGroups }

interface GroupRecord { pid: number, start: string, boot: string, owner?: { pid: number, start: string }, inside?: InsideRun }

function isInsideRun (value: unknown): value is InsideRun {
  const v = value as Partial<InsideRun> | null
  return typeof v === 'object' && v !== null && typeof v.docker === 'string' && typeof v.container === 'string' && typeof v.run === 'string'
}

function readRecords (path: string): GroupRecord[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  const live = new Map<number, GroupRecord>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    try {
      const rec = JSON.parse(line) as { pid?: unknown, start?: unknown, boot?: unknown, gone?: unknown, inside?: unknown, owner?: unknown, owner_start?: unknown }
      if (typeof rec.gone === 'number') live.delete(rec.gone)
      else if (typeof rec.pid === 'number' && rec.pid > 1 && typeof rec.start === 'string' && typeof rec.boot === 'string') {
        const owner = typeof rec.owner === 'number' && typeof rec.owner_start === 'string' ? { owner: { pid: rec.owner, start: rec.owner_start } } : {}
        live.set(rec.pid, { pid: rec.pid, start: rec.start, boot: rec.boot, ...owner, ...(isInsideRun(rec.inside) ? { inside: rec.inside } : {}) })
      }
    } catch {}
  }
  return [...live.values()]
}

/**
 * The live processes of the recorded groups: the leader when its start time matches, and any process
 * of the group (pgid = the leader's pid) that started no earlier than the leader did.
 */
function membersOf (records: GroupRecord[]): Array<{ pid: number, pgid: number }> {
  const boot = bootId()
  const wanted = new Map(records.filter((r) => r.boot === boot).map((r) => [r.pid, r]))
  if (wanted.size === 0) return []
  const found: Array<{ pid: number, pgid: number }> = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  for (const entry of entries) {
    const code = entry.charCodeAt(0)
    if (code < 48 || code > 57) continue
    const stat = readStat(entry)
    if (stat === null || stat.state === 'Z' || stat.state === 'X') continue
    const rec = wanted.get(stat.pgid)
    if (rec === undefined) continue
    const leader = readStat(rec.pid)
    // The leader's pid now belongs to another process: that group is not ours.
    if (leader !== null && leader.start !== rec.start) continue
    if (BigInt(stat.start || '0') < BigInt(rec.start || '0')) continue
    found.push({ pid: Number(entry), pgid: stat.pgid })
  }
  return found
}

/**
 * The records whose service is dead (or is this process, starting a new life): their groups are
 * left-overs. A group of a live service process is that service's to end (ADR 43).
 */
async function orphaned (records: GroupRecord[], lockPath: string | undefined): Promise<GroupRecord[]> {
  const boot = bootId()
  const ownerAlive = (owner: { pid: number, start: string }): boolean => owner.pid !== process.pid && isSameProcess(owner.pid, { start: owner.start, boot })
  let lockHeld: boolean | undefined
  const out: GroupRecord[] = []
  for (const rec of records) {
    if (rec.owner !== undefined) {
      if (!ownerAlive(rec.owner)) out.push(rec)
      continue
    }
    // An older version's record: its owner is whoever holds the lock, if a live ductor other than us does.
    if (lockHeld === undefined) {
      const holder = lockPath === undefined ? null : await readPidFile(lockPath)
      lockHeld = holder !== null && holder.alive && holder.pid !== process.pid
    }
    if (!lockHeld) out.push(rec)
  }
  return out
}

/**
 * Kills (SIGKILL) every process of the groups recorded at `path` whose service process is dead, and
 * waits, at most `waitMs`, until they are gone. Returns how many processes were found. Used at start
 * and by the supervisor; `lockPath` is the home's pid lock (for records without an owner).
 */
export async function killRecordedGroups (path: string, opts: { waitMs?: number, lockPath?: string } = {}): Promise<number> {
  const waitMs = opts.waitMs ?? 3000
  const records = await orphaned(readRecords(path), opts.lockPath)
  if (records.length === 0) return 0
  const members = membersOf(records)
  for (const { pid } of members) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  // The runs' groups inside the sandbox container (the killed docker clients did not end them).
  const inside = records.flatMap((r) => r.inside === undefined || r.boot !== bootId() ? [] : [r.inside])
  const insideKilled = await Promise.all(inside.map(async (run) => await signalInside(run, 'KILL', waitMs).then((hit) => hit ? 1 : 0, () => 0)))
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline && membersOf(records).length > 0) await sleep(20)
  return members.length + insideKilled.reduce<number>((a, b) => a + b, 0)
}

/**
 * At start: ends what the previous life left running, then starts an empty list for this life.
 */
export async function openCliGroups (path: string, logger?: Logger, lockPath?: string): Promise<CliGroups> {
  const killed = await killRecordedGroups(path, { lockPath })
  if (killed > 0) logger?.warn({ processes: killed }, 'ended CLI processes left running by the previous service process')
  await writeFileAtomic(path, Buffer.alloc(0))
  const log: AppendLog = await openAppendLog(path, { logger })
  const boot = bootId()
  // This service process: each group names it, so that only its death makes the group a left-over.
  const self = processMark(process.pid)
  const owner = self === null ? {} : { owner: process.pid, owner_start: self.start }
  return {
    async add (pid, inside) {
      const stat = readStat(pid)
      if (stat === null) return // gone already, or no /proc: nothing to find later
      await log.append(Buffer.from(JSON.stringify({ pid, start: stat.start, boot, ...owner, ...(inside === undefined ? {} : { inside }) }) + '\n'), { durable: true })
    },
    remove (pid) {
      log.append(Buffer.from(`{"gone":${pid}}\n`), { durable: false }).catch(() => {})
    },
    close: async () => { await log.close() }
  }
}

import { lstat, mkdir, readdir, readFile, readlink, realpath, stat, symlink, unlink } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'

/**
 * The three-way skill sync (ADR 0023), as the Python version keeps it: `workspace/skills/`,
 * `~/.claude/skills/` and `$CODEX_HOME/skills/` (default `~/.codex/skills/`) each end up with every
 * skill, the other places holding a symlink to the one real folder.
 *
 * - A skill is a folder (or one of our links) directly in a root; hidden names (`.system`) and loose
 *   files are not skills.
 * - The canonical copy is a real folder, preferred in the order ductor > claude > codex. Real folders
 *   are never overwritten or removed: a name that is a real folder in two places is a conflict, left
 *   as it is (each CLI sees its own).
 * - Our links are the symlinks that point into one of the three roots. A broken one is removed: so a
 *   skill deleted where it really lives disappears from all three places at the next sync.
 * - A symlink pointing anywhere else is the user's: never followed, never copied, never removed.
 * - On shutdown our links are removed again (`removeSkillLinks`).
 */
export type SkillRootName = 'ductor' | 'claude' | 'codex'
const ROOT_ORDER: readonly SkillRootName[] = ['ductor', 'claude', 'codex']
export type SkillRoots = Record<SkillRootName, string>

/** Where the three skill folders are, for a ductor home's workspace and an environment. */
export function skillRoots (workspaceSkills: string, env: NodeJS.ProcessEnv): SkillRoots {
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir()
  const claude = env['CLAUDE_CONFIG_DIR'] !== undefined && env['CLAUDE_CONFIG_DIR'] !== '' ? env['CLAUDE_CONFIG_DIR'] : join(home, '.claude')
  const codex = env['CODEX_HOME'] !== undefined && env['CODEX_HOME'] !== '' ? env['CODEX_HOME'] : join(home, '.codex')
  return { ductor: workspaceSkills, claude: join(claude, 'skills'), codex: join(codex, 'skills') }
}

type Entry =
  | { kind: 'dir', path: string }
  | { kind: 'link', path: string, target: string, ours: boolean, broken: boolean }

export interface SyncReport {
  linked: string[]
  removed: string[]
  conflicts: string[]
}

/** The roots that take part: the workspace's always; a CLI's when its home folder exists (the CLI is set up). */
async function activeRoots (roots: SkillRoots): Promise<Array<[SkillRootName, string]>> {
  const active: Array<[SkillRootName, string]> = []
  for (const name of ROOT_ORDER) {
    const root = roots[name]
    if (name !== 'ductor' && !await isDir(dirname(root))) continue
    await mkdir(root, { recursive: true })
    active.push([name, root])
  }
  return active
}

async function realRoots (active: Array<[SkillRootName, string]>): Promise<Set<string>> {
  const set = new Set<string>()
  for (const [, root] of active) {
    set.add(resolve(root))
    set.add(await realpath(root).catch(() => resolve(root)))
  }
  return set
}

async function scan (root: string, inTree: Set<string>): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>()
  for (const e of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (e.name.startsWith('.')) continue
    const path = join(root, e.name)
    if (e.isDirectory()) {
      entries.set(e.name, { kind: 'dir', path })
    } else if (e.isSymbolicLink()) {
      const raw = await readlink(path).catch(() => null)
      if (raw === null) continue
      const target = isAbsolute(raw) ? raw : resolve(root, raw)
      // Ours: a link straight into one of the three roots. Only then do we look at what it points to
      // (lstat: a real folder there); a link anywhere else is never followed.
      const ours = inTree.has(dirname(target))
      const broken = ours ? !(await lstat(target).then((s) => s.isDirectory(), () => false)) : false
      entries.set(e.name, { kind: 'link', path, target, ours, broken })
    }
  }
  return entries
}

/** One pass of the sync. */
export async function syncSkills (roots: SkillRoots): Promise<SyncReport> {
  const report: SyncReport = { linked: [], removed: [], conflicts: [] }
  const active = await activeRoots(roots)
  const inTree = await realRoots(active)
  const scans = new Map<SkillRootName, Map<string, Entry>>()
  for (const [name, root] of active) scans.set(name, await scan(root, inTree))

  // Broken links of ours first: the skill was deleted where it really lived.
  for (const entries of scans.values()) {
    for (const [skill, entry] of entries) {
      if (entry.kind === 'link' && entry.ours && entry.broken) {
        await unlink(entry.path).catch(() => {})
        entries.delete(skill)
        report.removed.push(entry.path)
      }
    }
  }

  const names = new Set([...scans.values()].flatMap((m) => [...m.keys()]))
  for (const skill of [...names].sort()) {
    const reals = active.flatMap(([root]) => { const e = scans.get(root)?.get(skill); return e?.kind === 'dir' ? [e.path] : [] })
    const canonical = reals[0]
    if (canonical === undefined) continue
    if (reals.length > 1) report.conflicts.push(skill)
    for (const [root, dir] of active) {
      const entry = scans.get(root)?.get(skill)
      const path = join(dir, skill)
      if (entry === undefined) {
        await symlink(canonical, path, 'dir').catch(() => {})
        report.linked.push(path)
      } else if (entry.kind === 'link' && entry.ours && resolve(entry.target) !== resolve(canonical) && !reals.includes(resolve(entry.target))) {
        // Our link to a copy that is no longer the canonical one: point it at the canonical one.
        await unlink(path).catch(() => {})
        await symlink(canonical, path, 'dir').catch(() => {})
        report.linked.push(path)
      }
    }
  }
  return report
}

/** Removes every link of ours from the three roots (on shutdown); real folders and the user's links stay. */
export async function removeSkillLinks (roots: SkillRoots): Promise<string[]> {
  const removed: string[] = []
  const present: Array<[SkillRootName, string]> = []
  for (const name of ROOT_ORDER) if (await isDir(roots[name])) present.push([name, roots[name]])
  const inTree = await realRoots(present)
  for (const [, root] of present) {
    for (const entry of (await scan(root, inTree)).values()) {
      if (entry.kind === 'link' && entry.ours) {
        await unlink(entry.path).catch(() => {})
        removed.push(entry.path)
      }
    }
  }
  return removed
}

export interface SkillInfo {
  name: string
  description: string
  /** Where the real folder is (the canonical copy), or the user's link for a skill linked from elsewhere. */
  path: string
  home: SkillRootName
  /** Which of the three places show it (a real folder or a link). */
  in: SkillRootName[]
}

/** The skills of the three places (for `/skills` and `ductor skills`), by name. Reads; changes nothing. */
export async function listSkills (roots: SkillRoots): Promise<SkillInfo[]> {
  const present: Array<[SkillRootName, string]> = []
  for (const name of ROOT_ORDER) if (await isDir(roots[name])) present.push([name, roots[name]])
  const inTree = await realRoots(present)
  const byName = new Map<string, SkillInfo>()
  for (const [rootName, root] of present) {
    for (const [skill, entry] of await scan(root, inTree)) {
      if (entry.kind === 'link' && entry.broken) continue
      const info = byName.get(skill) ?? { name: skill, description: '', path: '', home: rootName, in: [] }
      info.in.push(rootName)
      if (info.path === '' && (entry.kind === 'dir' || !entry.ours)) {
        info.path = entry.path
        info.home = rootName
        if (entry.kind === 'dir') info.description = await skillDescription(entry.path)
      }
      byName.set(skill, info)
    }
  }
  return [...byName.values()].filter((s) => s.path !== '').sort((a, b) => a.name.localeCompare(b.name))
}

/** `description:` of SKILL.md's front matter, else its first line of text. */
async function skillDescription (dir: string): Promise<string> {
  const text = await readFile(join(dir, 'SKILL.md'), 'utf8').catch(() => '')
  const front = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? ''
  const desc = /^description:\s*(.+)$/m.exec(front)?.[1]?.trim().replace(/^["']|["']$/g, '')
  if (desc !== undefined && desc !== '') return desc
  return text.replace(/^---\n[\s\S]*?\n---\n/, '').split('\n').map((l) => l.replace(/^#+\s*/, '').trim()).find((l) => l !== '') ?? ''
}

async function isDir (path: string): Promise<boolean> {
  return await stat(path).then((s) => s.isDirectory(), () => false)
}

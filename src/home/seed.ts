import { mkdir, readFile, writeFile, readdir, stat, lstat, copyFile, utimes } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join, dirname, relative, sep } from 'node:path'
import { homePaths } from './paths.ts'
import { templatesDir, renderRules, type CliVariant, type Placement } from './templates.ts'
import type { Logger } from '../logger-types.ts'

export const RULE_FILES = ['CLAUDE.md', 'AGENTS.md'] as const

/**
 * Creates and refreshes the home from the package templates (SPEC §1):
 * framework-owned files (rule files, tool docs) are rewritten when they differ; user-owned files
 * (MAINMEMORY.md) are created once and never overwritten. Returns the files it wrote.
 */
export async function seedHome (home: string, opts: { variant: CliVariant, placement?: Placement, logger?: Logger }): Promise<string[]> {
  const paths = homePaths(home)
  const tpl = templatesDir()
  const written: string[] = []
  for (const dir of [dirname(paths.config), paths.logs, paths.state, paths.workspace, dirname(paths.memory),
    paths.cronTasks, paths.skills, paths.tools, paths.telegramFiles, paths.outputToUser]) {
    await mkdir(dir, { recursive: true })
  }

  const homeRules = await readFile(join(tpl, 'home', 'RULES.md'), 'utf8')
  const workspaceRules = renderRules(await readFile(join(tpl, 'workspace', 'RULES.md'), 'utf8'), opts.variant, opts.placement)
  const rules = await ruleRecord(home, paths.state)
  for (const name of RULE_FILES) {
    if (await rules.refresh(join(home, name), homeRules, opts.logger)) written.push(join(home, name))
    if (await rules.refresh(join(paths.workspace, name), workspaceRules, opts.logger)) written.push(join(paths.workspace, name))
  }
  await rules.save()
  for (const name of await readdir(join(tpl, 'workspace', 'tools'))) {
    const text = await readFile(join(tpl, 'workspace', 'tools', name), 'utf8')
    if (await writeIfDifferent(join(paths.tools, name), text)) written.push(join(paths.tools, name))
  }
  if (await writeIfMissing(paths.memory, await readFile(join(tpl, 'workspace', 'memory_system', 'MAINMEMORY.md'), 'utf8'))) {
    written.push(paths.memory)
  }
  written.push(...await installBundledSkills(join(tpl, 'skills'), paths.skills))
  const synced = await syncRuleFiles(paths.workspace, { skip: new Set([paths.telegramFiles, paths.outputToUser]) })
  if (written.length > 0 || synced.length > 0) opts.logger?.info({ written: written.length, synced: synced.length }, 'home seeded')
  return written
}

/**
 * The skills we ship (templates/skills/<name>/) go into workspace/skills/<name>/. A marker file keeps
 * the hash of what we wrote: a later version replaces it only while the user has not edited it; a
 * folder the user made or changed is theirs and left alone (ADR 0023).
 */
async function installBundledSkills (from: string, to: string): Promise<string[]> {
  const written: string[] = []
  for (const name of await readdir(from).catch(() => [] as string[])) {
    const text = await readFile(join(from, name, 'SKILL.md'), 'utf8')
    const dir = join(to, name)
    const target = join(dir, 'SKILL.md')
    const marker = join(dir, BUNDLED_MARKER)
    const current = await readFile(target, 'utf8').catch(() => null)
    if (current === text) continue
    const entry = await lstat(dir).catch(() => null)
    if (entry !== null && !entry.isDirectory()) continue
    const recorded = (await readFile(marker, 'utf8').catch(() => '')).trim()
    if (current !== null && recorded !== sha256(current)) continue
    if (current === null && entry !== null && (await readdir(dir)).some((n) => n !== BUNDLED_MARKER)) continue
    await mkdir(dir, { recursive: true })
    await writeFile(target, text)
    await writeFile(marker, sha256(text) + '\n')
    written.push(target)
  }
  return written
}

export const BUNDLED_MARKER = '.ductor-bundled'

/** Where the start keeps a rule file's text that it did not write before refreshing it (`state/`). */
export const KEPT_RULES_DIR = 'kept-rule-files'
const RULES_RECORD = 'rule-files.json'

/**
 * The rule files are ductor's (SPEC §1: refreshed on every start), but nothing stops a user from
 * editing one (CLAUDE.md and AGENTS.md are even kept in sync while the service runs), and a refresh
 * must not lose what they wrote. `state/rule-files.json` holds the hash of what ductor last wrote to
 * each; a file whose text is neither that nor the new one (the user's edits, the Python version's
 * rules of a migrated home) is copied to `state/kept-rule-files/` first, and the log says where and
 * where standing instructions belong instead (MAINMEMORY.md). A change of variant (the installed
 * CLIs) or of ductor's template replaces ductor's own text without a copy.
 */
async function ruleRecord (home: string, stateDir: string): Promise<{ refresh: (path: string, text: string, logger?: Logger) => Promise<boolean>, save: () => Promise<void> }> {
  const recordPath = join(stateDir, RULES_RECORD)
  let record: Record<string, string> = {}
  try {
    const parsed = JSON.parse(await readFile(recordPath, 'utf8')) as { written?: unknown }
    if (typeof parsed.written === 'object' && parsed.written !== null) record = parsed.written as Record<string, string>
  } catch {}
  let changed = false
  const kept = new Set<string>()
  return {
    async refresh (path, text, logger) {
      const key = relative(home, path)
      const current = await readFile(path, 'utf8').catch(() => null)
      const previous = record[key]
      if (previous !== sha256(text)) {
        record[key] = sha256(text)
        changed = true
      }
      if (current === text) return false
      if (current !== null && current.trim() !== '' && previous !== sha256(current) && !kept.has(current)) {
        kept.add(current)
        const stamp = new Date().toISOString().replace(/[:.]/g, '-')
        const copy = join(stateDir, KEPT_RULES_DIR, `${key.split(sep).join('__')}.${stamp}`)
        await mkdir(dirname(copy), { recursive: true })
        await writeFile(copy, current)
        logger?.warn({ file: path, keptAt: copy }, 'a rule file had text ductor did not write; it is rewritten at every start (it is ductor\'s), so that text was kept aside. Standing instructions belong in workspace/memory_system/MAINMEMORY.md')
      }
      await writeFile(path, text)
      return true
    },
    async save () {
      if (changed) await writeFile(recordPath, JSON.stringify({ written: record }, null, 2) + '\n')
    }
  }
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

async function writeIfDifferent (path: string, text: string): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch(() => null)
  if (current === text) return false
  await writeFile(path, text)
  return true
}

async function writeIfMissing (path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text, { flag: 'wx' })
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/**
 * Keeps CLAUDE.md and AGENTS.md identical in every folder under `root` (Claude reads the first, Codex
 * the second): when they differ, the newer one is copied over the older; a missing one is created.
 * Returns the files it wrote.
 */
export async function syncRuleFiles (root: string, opts: { skip?: Set<string>, maxDepth?: number } = {}): Promise<string[]> {
  const written: string[] = []
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name))
    const present = RULE_FILES.filter((n) => names.has(n))
    if (present.length > 0) {
      const copied = await syncPair(dir, present)
      if (copied !== null) written.push(copied)
    }
    if (depth >= (opts.maxDepth ?? 4)) return
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'node_modules') continue
      const child = join(dir, e.name)
      if (opts.skip?.has(child) !== true) await visit(child, depth + 1)
    }
  }
  await visit(root, 0)
  return written
}

async function syncPair (dir: string, present: ReadonlyArray<typeof RULE_FILES[number]>): Promise<string | null> {
  const [a, b] = RULE_FILES.map((n) => join(dir, n)) as [string, string]
  if (present.length === 1) {
    const [from, to] = present[0] === 'CLAUDE.md' ? [a, b] : [b, a]
    await copyFile(from, to)
    return to
  }
  const [textA, textB] = await Promise.all([readFile(a, 'utf8'), readFile(b, 'utf8')])
  if (textA === textB) return null
  const [statA, statB] = await Promise.all([stat(a), stat(b)])
  const [from, to, fromStat] = statA.mtimeMs >= statB.mtimeMs ? [a, b, statA] : [b, a, statB]
  await copyFile(from, to)
  // Same mtime on both, so the next sync sees them as equal rather than the copy as "newer".
  await utimes(to, fromStat.atime, fromStat.mtime)
  return to
}

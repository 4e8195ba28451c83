import { existsSync } from 'node:fs'
import { lstat, mkdir, open, readFile, realpath } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuctorError, ErrorCodes } from '../errors.ts'
import { writeFileAtomic } from '../atomic-json.ts'

/**
 * Task folders under `workspace/cron_tasks/` (SPEC §8.2): `CLAUDE.md` and `AGENTS.md` (the same task
 * rules; framework-owned, refreshed), `TASK_DESCRIPTION.md` and `<name>_MEMORY.md` (user-owned,
 * created once, never overwritten) and `scripts/`.
 *
 * Names are confined (SPEC §11): a new name is `[a-z0-9][a-z0-9_-]{0,63}`; the folder must resolve,
 * symlinks followed, to a direct child of the real `cron_tasks` folder. Framework files are written
 * by temp file + rename, which replaces a symlink instead of writing through it; user files are
 * created with O_EXCL, which never follows one.
 */

const TASK_NAME_MAX = 64
const TASK_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/
/** Names already in an existing `cron_jobs.json` may be a little looser (case, dots), never a path. */
const LEGACY_TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

const TASK_RULE_FILES = ['CLAUDE.md', 'AGENTS.md'] as const
export const TASK_DESCRIPTION_FILE = 'TASK_DESCRIPTION.md'
const TASK_SCRIPTS_DIR = 'scripts'

/** True for a canonical task name (what new jobs and folders must use). */
export function isValidTaskName (name: unknown): name is string {
  return typeof name === 'string' && TASK_NAME.test(name)
}

/**
 * Turns free text ("Daily News: Tech!") into a task name ("daily-news-tech"): lowercase ASCII,
 * accents dropped, anything else becomes `-`, at most {@link TASK_NAME_MAX} characters.
 * Throws `bad_request` when nothing usable is left.
 */
export function sanitizeTaskName (input: string): string {
  const name = input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, TASK_NAME_MAX)
    .replace(/[-_]+$/, '')
  if (!TASK_NAME.test(name)) {
    throw new DuctorError(ErrorCodes.badRequest, `"${input.slice(0, 80)}" gives no usable task name; use letters, digits, - or _`)
  }
  return name
}

/** `<name>_MEMORY.md`, the task's own memory file. */
export function memoryFileName (name: string): string {
  return `${name}_MEMORY.md`
}

function checkName (name: string, legacy: boolean): void {
  const ok = legacy ? LEGACY_TASK_NAME.test(name) && !name.includes('..') : TASK_NAME.test(name)
  if (!ok) {
    throw new DuctorError(ErrorCodes.badRequest, `task folder "${name.slice(0, 80).replace(/[\p{Cc}]/gu, '?')}" is not a valid name; use lowercase letters, digits, - or _ (at most ${TASK_NAME_MAX})`)
  }
}

function isInside (root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.includes('/') && !rel.includes('\\')
}

/**
 * The real path of task folder `name` under `cronTasksDir`. Throws `bad_request` for a bad name,
 * `forbidden` when it resolves outside (symlink escape), `not_found` when it does not exist
 * (the runner reports that as `error:folder_missing`). Accepts legacy names from existing files.
 */
export async function resolveTaskFolder (cronTasksDir: string, name: string): Promise<string> {
  checkName(name, true)
  let root: string
  let real: string
  try {
    root = await realpath(cronTasksDir)
    real = await realpath(join(root, name))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DuctorError(ErrorCodes.notFound, `task folder "${name}" does not exist`)
    throw err
  }
  if (!isInside(root, real)) throw new DuctorError(ErrorCodes.forbidden, `task folder "${name}" points outside cron_tasks`)
  if (!(await lstat(real)).isDirectory()) throw new DuctorError(ErrorCodes.notFound, `task folder "${name}" is not a folder`)
  return real
}

/**
 * Checks, before anything is saved, that `name` can become a job's or hook's task folder: a valid
 * name, and either nothing of that name in `cronTasksDir` (it will be created) or a real folder
 * inside it. Throws `bad_request` naming task_folder, what is wrong and what is allowed; writes nothing.
 */
export async function checkTaskFolderTarget (cronTasksDir: string, name: string): Promise<void> {
  const shown = name.slice(0, 80).replace(/[\p{Cc}]/gu, '?')
  if (!TASK_NAME.test(name)) {
    throw new DuctorError(ErrorCodes.badRequest, `task_folder "${shown}" is not a valid name; allowed: lowercase letters, digits, - and _, starting with a letter or digit, at most ${TASK_NAME_MAX} characters`)
  }
  try {
    await lstat(join(cronTasksDir, name))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  try {
    await resolveTaskFolder(cronTasksDir, name)
  } catch (err) {
    if (!(err instanceof DuctorError)) throw err
    const what = err.code === ErrorCodes.forbidden ? 'points outside workspace/cron_tasks' : 'exists in workspace/cron_tasks but is not a folder'
    throw new DuctorError(ErrorCodes.badRequest, `task_folder "${shown}" ${what}; allowed: a folder inside workspace/cron_tasks, or a name not in use there (it is created)`)
  }
}

/** The shipped `templates/task/` folder, from `src/` (tsx) or `dist/src/` (compiled). */
export function defaultTaskTemplatesDir (): string {
  for (const rel of ['../../templates/task/', '../../../templates/task/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(join(dir, 'RULES.md'))) return dir
  }
  throw new DuctorError(ErrorCodes.internal, 'the task templates (templates/task/) are missing from the installation')
}

/** Fills `{{key}}` placeholders in one pass, so values that contain braces stay as written. */
function render (template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole)
}

async function createOnce (path: string, content: string): Promise<boolean> {
  let handle
  try {
    handle = await open(path, 'wx', 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
  return true
}

async function writeRules (folder: string, name: string, templatesDir: string): Promise<string[]> {
  const rules = render(await readFile(join(templatesDir, 'RULES.md'), 'utf8'), { name, memory_file: memoryFileName(name) })
  const written: string[] = []
  for (const file of TASK_RULE_FILES) {
    const path = join(folder, file)
    // Only a regular file is read back (a symlink could point at a FIFO or outside the folder).
    const isFile = await lstat(path).then((s) => s.isFile(), () => false)
    if (isFile && (await readFile(path, 'utf8')) === rules) continue
    await writeFileAtomic(path, rules)
    written.push(file)
  }
  return written
}

export interface TaskFolderResult {
  path: string
  /** False when the folder was there already (its user files were kept). */
  created: boolean
  /** Files written by this call, relative to the folder. */
  written: string[]
}

/**
 * Creates (or completes) task folder `name` with its rule files, `TASK_DESCRIPTION.md` from
 * `description`, the memory file and `scripts/`. Existing user files are never touched; the rule
 * files are brought up to date.
 */
export async function createTaskFolder (opts: {
  cronTasksDir: string
  name: string
  description: string
  title?: string
  templatesDir?: string
}): Promise<TaskFolderResult> {
  const { name } = opts
  checkName(name, false)
  const templatesDir = opts.templatesDir ?? defaultTaskTemplatesDir()
  await mkdir(opts.cronTasksDir, { recursive: true })
  const root = await realpath(opts.cronTasksDir)
  let created = false
  try {
    await mkdir(join(root, name))
    created = true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const folder = await resolveTaskFolder(root, name)
  const written = await writeRules(folder, name, templatesDir)
  const values = { name, title: opts.title ?? name, description: opts.description.trim(), memory_file: memoryFileName(name) }
  if (await createOnce(join(folder, TASK_DESCRIPTION_FILE), render(await readFile(join(templatesDir, 'TASK_DESCRIPTION.md'), 'utf8'), values))) {
    written.push(TASK_DESCRIPTION_FILE)
  }
  if (await createOnce(join(folder, memoryFileName(name)), render(await readFile(join(templatesDir, 'MEMORY.md'), 'utf8'), values))) {
    written.push(memoryFileName(name))
  }
  try {
    await mkdir(join(folder, TASK_SCRIPTS_DIR))
    written.push(`${TASK_SCRIPTS_DIR}/`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return { path: folder, created, written }
}

/** Rewrites the rule files of an existing task folder when they differ from the templates; returns the files written. */
export async function refreshTaskRules (cronTasksDir: string, name: string, templatesDir: string = defaultTaskTemplatesDir()): Promise<string[]> {
  const folder = await resolveTaskFolder(cronTasksDir, name)
  return await writeRules(folder, name, templatesDir)
}

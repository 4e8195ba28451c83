import { readdir, realpath, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'

/**
 * The home as a tree for `/showfiles` (SPEC §4, §11): listing and resolving never leave the home.
 * Every step goes through `realpath` and a prefix check against the home's own real path, so a
 * symlink that points outside is refused, and names with `/`, `..`, NUL or control characters are
 * refused before the file system is asked.
 */

export type EntryKind = 'dir' | 'file' | 'other'

export interface HomeEntry {
  name: string
  kind: EntryKind
  size: number
  /** The entry is a symbolic link (its target is checked when it is opened). */
  link: boolean
}

export type Resolved =
  | { ok: true, real: string, rel: string, kind: EntryKind, size: number }
  | { ok: false, reason: string }

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** A single path segment that may be looked up: no separators, no `.`/`..`, no control characters. */
export function isSafeName (name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !CONTROL.test(name)
}

/** A path relative to the home ('' = the home itself) made of safe segments. */
function isSafeRel (rel: string): boolean {
  return rel === '' || rel.split('/').every(isSafeName)
}

export function isInside (root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)
}

/**
 * Files that hold ductor's own secrets (bot token, admin token, hook tokens), quarantined copies
 * included: listed, but never sent into a chat (a group would see them). Read them on the machine.
 */
export function holdsSecrets (rel: string): boolean {
  return rel === 'config' || rel.startsWith('config/') || /^webhooks\.json/.test(rel)
}

/** The public Bot API's upload limit for documents. */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024

/** Why a resolved file may not be sent into the chat, or null when it may. */
export function sendRefusal (target: { rel: string, kind: EntryKind, size: number }, name: string): string | null {
  if (target.kind !== 'file') return `${name} is not a regular file.`
  if (holdsSecrets(target.rel)) return `${name} holds ductor's tokens; it is not sent into a chat. Read it on the machine.`
  if (target.size > MAX_UPLOAD_BYTES) return `${name} is ${formatSize(target.size)}; Telegram takes files up to 50 MB.`
  return null
}

const kindOf = (s: { isDirectory: () => boolean, isFile: () => boolean }): EntryKind => s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other'

/** Resolves `name` inside the folder `rel` of the home whose real path is `root`. */
export async function resolveInHome (root: string, rel: string, name = ''): Promise<Resolved> {
  if (!isSafeRel(rel) || (name !== '' && !isSafeName(name))) return { ok: false, reason: 'that name is not allowed (path separators, “..” or control characters)' }
  let real: string
  try {
    real = await realpath(join(root, ...rel.split('/').filter(Boolean), name))
  } catch {
    return { ok: false, reason: 'it is not there any more' }
  }
  if (!isInside(root, real)) return { ok: false, reason: 'it points outside the home directory' }
  const s = await stat(real).catch(() => null)
  if (s === null) return { ok: false, reason: 'it is not there any more' }
  return { ok: true, real, rel: relative(root, real).split(sep).join('/'), kind: kindOf(s), size: s.size }
}

/** The entries of folder `rel`: folders first, then files, by name. Names that are not safe are left out. */
export async function listHomeDir (root: string, rel: string): Promise<{ ok: true, entries: HomeEntry[], hidden: number } | { ok: false, reason: string }> {
  const dir = await resolveInHome(root, rel)
  if (!dir.ok) return dir
  if (dir.kind !== 'dir') return { ok: false, reason: 'it is not a folder' }
  const dirents = await readdir(dir.real, { withFileTypes: true }).catch(() => null)
  if (dirents === null) return { ok: false, reason: 'it cannot be read' }
  let hidden = 0
  const entries: HomeEntry[] = []
  for (const d of dirents) {
    if (!isSafeName(d.name)) { hidden++; continue }
    const link = d.isSymbolicLink()
    const s = link ? await stat(join(dir.real, d.name)).catch(() => null) : null
    const size = d.isFile() ? (await stat(join(dir.real, d.name)).catch(() => null))?.size ?? 0 : s?.size ?? 0
    entries.push({ name: d.name, kind: link ? (s === null ? 'other' : kindOf(s)) : kindOf(d), size, link })
  }
  entries.sort((a, b) => (a.kind === 'dir' ? 0 : 1) - (b.kind === 'dir' ? 0 : 1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { ok: true, entries, hidden }
}

export function formatSize (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let v = bytes / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i] ?? 'GB'}`
}

import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { parse, stringify } from 'yaml'
import { writeFileAtomic } from '../atomic-json.ts'

/**
 * `telegram_files/_index.yaml`, kept as the Python version keeps it (its `list_files.py` and
 * `file_info.py` read it): `last_updated`, `total_files`, and `tree` mapping each `YYYY-MM-DD` folder
 * to its files (`name`, `type`, `size`, `received`, `caption` when there was one). Rebuilt from the
 * folders after each received file; captions and receive times of earlier entries are kept.
 */
export interface IndexEntry {
  name: string
  type: string
  size: number
  received: string
  caption?: string
}

export interface FileIndex {
  last_updated: string
  total_files: number
  tree: Record<string, IndexEntry[]>
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.wav': 'audio/x-wav',
  '.flac': 'audio/flac',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.tgs': 'application/x-tgsticker'
}

function guessMime (name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream'
}

const pending = new Map<string, Promise<unknown>>()

/** Adds a just-received file to the index (one update at a time per folder). */
export async function recordReceivedFile (telegramFiles: string, file: { path: string, mimeType?: string, caption?: string, received: Date }): Promise<FileIndex> {
  const previous = pending.get(telegramFiles) ?? Promise.resolve()
  const next = previous.catch(() => {}).then(async () => await rebuildIndex(telegramFiles, file))
  pending.set(telegramFiles, next)
  try {
    return await next
  } finally {
    if (pending.get(telegramFiles) === next) pending.delete(telegramFiles)
  }
}

/** Reads `_index.yaml` (ours or the Python version's); an unreadable one counts as empty. */
async function readIndex (telegramFiles: string): Promise<FileIndex | null> {
  try {
    const data = parse(await readFile(join(telegramFiles, '_index.yaml'), 'utf8')) as Partial<FileIndex> | null
    if (data === null || typeof data !== 'object') return null
    const tree: Record<string, IndexEntry[]> = {}
    for (const [day, files] of Object.entries(data.tree ?? {})) if (Array.isArray(files)) tree[String(day)] = files
    return { last_updated: String(data.last_updated ?? ''), total_files: Number(data.total_files ?? 0), tree }
  } catch {
    return null
  }
}

async function rebuildIndex (telegramFiles: string, added?: { path: string, mimeType?: string, caption?: string, received: Date }): Promise<FileIndex> {
  const old = await readIndex(telegramFiles)
  const known = new Map<string, IndexEntry>()
  for (const [day, files] of Object.entries(old?.tree ?? {})) for (const f of files) known.set(`${day}/${f.name}`, f)
  const tree: Record<string, IndexEntry[]> = {}
  let total = 0
  const days = (await readdir(telegramFiles, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory() && DAY.test(d.name)).map((d) => d.name).sort()
  for (const day of days) {
    const entries: IndexEntry[] = []
    for (const e of (await readdir(join(telegramFiles, day), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isFile() || e.name.startsWith('.')) continue
      const path = join(telegramFiles, day, e.name)
      const st = await stat(path).catch(() => null)
      if (st === null) continue
      const isAdded = added !== undefined && dirname(added.path) === join(telegramFiles, day) && basename(added.path) === e.name
      const before = known.get(`${day}/${e.name}`)
      const caption = isAdded ? (added.caption ?? '') : before?.caption ?? ''
      entries.push({
        name: e.name,
        type: isAdded && added.mimeType !== undefined ? added.mimeType : before?.type ?? guessMime(e.name),
        size: st.size,
        received: isAdded ? added.received.toISOString() : before?.received ?? st.mtime.toISOString(),
        ...(caption !== '' ? { caption } : {})
      })
    }
    if (entries.length > 0) {
      tree[day] = entries
      total += entries.length
    }
  }
  const index: FileIndex = { last_updated: new Date().toISOString(), total_files: total, tree }
  // YAML 1.1 quoting, so PyYAML reads the day keys and times as strings, not as dates.
  const text = '# Index of the files received in Telegram, kept by ductor. Do not edit: it is rebuilt.\n' + stringify(index, { version: '1.1' })
  await writeFileAtomic(join(telegramFiles, '_index.yaml'), text)
  return index
}

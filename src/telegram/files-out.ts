import { realpath, stat } from 'node:fs/promises'
import { basename, extname, isAbsolute, relative } from 'node:path'
import { InputFile, type Api } from 'grammy'
import type { Logger } from '../logger-types.ts'
import type { ChatTarget } from './context.ts'
import { sendMarkdown, threadParams, withRetry } from './send.ts'
import { holdsSecrets } from './panels/home-browser.ts'

/**
 * Which files the agent may send (SPEC §2 `file_access`) and the folders that means: `all`; `home`
 * = the user's home folder (`~`, as in the Python version); `workspace` = ductor's workspace.
 */
export interface FileAccess {
  mode: 'all' | 'home' | 'workspace'
  /** The ductor home (its secrets are never sent, whatever the mode). */
  home: string
  /** The user's home folder, the root of mode `home`. */
  userHome: string
  workspace: string
}

export type FileCheck =
  | { ok: true, path: string, size: number }
  | { ok: false, reason: string }

const photoExtensions = new Set(['.jpg', '.jpeg', '.png', '.webp'])
/** Bot API limits: photos up to 10 MB, other uploads up to 50 MB. */
const maxPhotoBytes = 10 * 1024 * 1024
const maxUploadBytes = 50 * 1024 * 1024

/** Resolves `path` (symlinks included) and checks it against the `file_access` root; ductor's own secrets never go. */
export async function checkFileAccess (path: string, access: FileAccess): Promise<FileCheck> {
  if (!isAbsolute(path) || [...path].some((c) => c.charCodeAt(0) < 32)) return { ok: false, reason: 'not an absolute path' }
  let real: string
  try {
    real = await realpath(path)
  } catch {
    return { ok: false, reason: 'file not found' }
  }
  if (access.mode !== 'all') {
    const rootPath = access.mode === 'home' ? access.userHome : access.workspace
    const root = await realpath(rootPath).catch(() => rootPath)
    const rel = relative(root, real)
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      return { ok: false, reason: `outside the allowed folder (file_access is "${access.mode}": only files under ${rootPath})` }
    }
  }
  const home = await realpath(access.home).catch(() => access.home)
  const inHome = relative(home, real)
  if (!inHome.startsWith('..') && !isAbsolute(inHome) && holdsSecrets(inHome)) {
    return { ok: false, reason: 'it holds ductor\'s tokens and secrets (config/, webhooks.json), which are never sent into a chat' }
  }
  const info = await stat(real).catch(() => null)
  if (info === null || !info.isFile()) return { ok: false, reason: 'not a file' }
  if (info.size > maxUploadBytes) return { ok: false, reason: 'larger than the 50 MB Telegram lets a bot send' }
  return { ok: true, path: real, size: info.size }
}

/** Sends each file (images as photos, the rest as documents); a refused or missing file gets a visible note. */
export async function sendFiles (api: Api, where: ChatTarget, files: readonly string[], access: FileAccess, logger: Logger): Promise<void> {
  for (const file of files) {
    const check = await checkFileAccess(file, access)
    if (!check.ok) {
      logger.info({ file, reason: check.reason }, 'file not sent')
      await sendMarkdown(api, where, `⚠️ Could not send \`${basename(file)}\`: ${check.reason}.`).catch(() => {})
      continue
    }
    const name = basename(file)
    try {
      if (photoExtensions.has(extname(name).toLowerCase()) && check.size <= maxPhotoBytes) {
        try {
          await withRetry(async () => await api.sendPhoto(where.chatId, new InputFile(check.path, name), threadParams(where)))
          continue
        } catch (err) {
          logger.info({ err, file }, 'sending as a photo failed; sending as a document')
        }
      }
      await withRetry(async () => await api.sendDocument(where.chatId, new InputFile(check.path, name), threadParams(where)))
    } catch (err) {
      logger.warn({ err, file }, 'could not send a file')
      await sendMarkdown(api, where, `⚠️ Could not send \`${name}\`: Telegram refused it.`).catch(() => {})
    }
  }
}

import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-json.ts'

/**
 * Written just before the restart that completes an upgrade (`state/upgrade.json`), read once by the
 * new process so the chat that asked is told which version now runs. `chat_id: null` means the
 * upgrade came from the command line (tell every allowed user, or nobody: the caller decides).
 */
export interface UpgradeMarker {
  from: string
  to: string
  chat_id: number | null
  requested_at: string
}

export interface UpgradeNotice {
  chat_id: number | null
  text: string
  /** The new version really runs. */
  upgraded: boolean
}

export const upgradeMarkerPath = (stateDir: string): string => join(stateDir, 'upgrade.json')

export async function writeUpgradeMarker (stateDir: string, marker: UpgradeMarker): Promise<void> {
  await writeJsonAtomic(upgradeMarkerPath(stateDir), marker)
}

/**
 * Takes the marker (deletes it, so the message goes out once) and says what happened, judged by the
 * version that runs now. null when there is no marker (a plain start or restart) or it is unreadable.
 */
export async function consumeUpgradeNotice (stateDir: string, runningVersion: string): Promise<UpgradeNotice | null> {
  const path = upgradeMarkerPath(stateDir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
    await unlink(path)
  } catch {
    return null
  }
  let marker: Partial<UpgradeMarker>
  try {
    marker = JSON.parse(text) as Partial<UpgradeMarker>
  } catch {
    return null
  }
  if (typeof marker.from !== 'string' || typeof marker.to !== 'string') return null
  const chatId = typeof marker.chat_id === 'number' ? marker.chat_id : null
  if (runningVersion === marker.to && marker.from === marker.to) {
    return { chat_id: chatId, upgraded: true, text: `ductor ${marker.to} was updated to the newest commits of its checkout and is running again.` }
  }
  if (runningVersion === marker.to) {
    return { chat_id: chatId, upgraded: true, text: `ductor was upgraded from ${marker.from} to ${marker.to} and is running again.` }
  }
  if (runningVersion === marker.from) {
    return { chat_id: chatId, upgraded: false, text: `The upgrade to ${marker.to} did not take effect: ductor ${runningVersion} is still running. Run \`ductor upgrade\` on the machine to see why.` }
  }
  return { chat_id: chatId, upgraded: false, text: `ductor ${runningVersion} is running (an upgrade from ${marker.from} to ${marker.to} was requested).` }
}

/** Written by `/restart` just before the service stops (`state/restart.json`), read once by the next process. */
export interface RestartMarker {
  chat_id: number
  requested_at: string
}

const restartMarkerPath = (stateDir: string): string => join(stateDir, 'restart.json')

export async function writeRestartMarker (stateDir: string, marker: RestartMarker): Promise<void> {
  await writeJsonAtomic(restartMarkerPath(stateDir), marker)
}

/** Takes the restart marker (deleted, so the confirmation goes out once): the chat that asked, or null. */
export async function consumeRestartMarker (stateDir: string): Promise<number | null> {
  const path = restartMarkerPath(stateDir)
  try {
    const marker = JSON.parse(await readFile(path, 'utf8')) as Partial<RestartMarker>
    return typeof marker.chat_id === 'number' ? marker.chat_id : null
  } catch {
    return null
  } finally {
    await unlink(path).catch(() => {})
  }
}

import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-json.ts'

/**
 * Chats whose run a graceful stop cut off (`/restart`, SIGTERM, Ctrl-C), kept in
 * `state/cut-off-chats.json` until the next start tells them, together with the chats of runs a crash
 * cut off (found `running` in the run history): one notice per chat, from the next life, whatever
 * stopped the run (ADR 19). It is not sent while stopping: Telegram paces each chat (about one message
 * a second), so a notice queued behind a chat's other messages can miss the process's exit, and one
 * sent late could be told twice.
 */
export interface CutOffChats {
  /** Records one chat (durable once the promise resolves). */
  add: (chatId: number) => Promise<void>
}

const fileOf = (stateDir: string): string => join(stateDir, 'cut-off-chats.json')

export function cutOffChats (stateDir: string): CutOffChats {
  const chats = new Set<number>()
  let chain: Promise<void> = Promise.resolve()
  return {
    async add (chatId) {
      chats.add(chatId)
      // One writer at a time; each write carries every chat recorded so far (and any earlier life's).
      chain = chain.then(async () => {
        const earlier = await readChats(stateDir)
        await writeJsonAtomic(fileOf(stateDir), { chat_ids: [...new Set([...earlier, ...chats])] })
      })
      await chain
    }
  }
}

async function readChats (stateDir: string): Promise<number[]> {
  try {
    const value = JSON.parse(await readFile(fileOf(stateDir), 'utf8')) as { chat_ids?: unknown }
    return Array.isArray(value.chat_ids) ? value.chat_ids.filter((id): id is number => Number.isSafeInteger(id)) : []
  } catch {
    return []
  }
}

/** Takes the recorded chats (the file is deleted, so each is told once). */
export async function consumeCutOffChats (stateDir: string): Promise<number[]> {
  const chats = await readChats(stateDir)
  await unlink(fileOf(stateDir)).catch(() => {})
  return chats
}

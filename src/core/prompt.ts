import { readFile } from 'node:fs/promises'

/** Every this many messages the prompt carries a short reminder to keep memory current (SPEC §5). */
const MEMORY_REMINDER_EVERY = 6
/** Past the age warning, every this many messages the user is told the session is old (SPEC §2). */
const AGE_WARNING_EVERY = 10

const MEMORY_REMINDER = '(Reminder from ductor: if you learned something lasting about the user in this conversation, ' +
  'update memory_system/MAINMEMORY.md now — briefly, no secrets.)'

/** The memory text appended to the system prompt of a new session; null when the file is empty or missing. */
export async function memorySystemText (memoryPath: string): Promise<string | null> {
  const text = await readFile(memoryPath, 'utf8').catch(() => '')
  if (text.trim() === '') return null
  return `# Long-term memory about the user (memory_system/MAINMEMORY.md)\n\n${text.trim()}\n`
}

/** The prompt for the `messageNumber`-th message of a session (1-based). */
export function withReminder (prompt: string, messageNumber: number): string {
  return messageNumber > 0 && messageNumber % MEMORY_REMINDER_EVERY === 0 ? `${prompt}\n\n${MEMORY_REMINDER}` : prompt
}

/** A notice suggesting /new when the session is old, on every 10th message; null otherwise. */
export function ageWarning (createdAtIso: string, now: number, warningHours: number, messageNumber: number): string | null {
  if (warningHours <= 0 || messageNumber % AGE_WARNING_EVERY !== 0) return null
  const ageHours = (now - Date.parse(createdAtIso)) / 3_600_000
  if (!(ageHours > warningHours)) return null
  return `This session is ${Math.floor(ageHours)} hours old. Long sessions get slow and costly; send /new to start a fresh one (memory is kept).`
}

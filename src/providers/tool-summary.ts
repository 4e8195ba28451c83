/** Short, one-line summaries of tool calls for status indicators ("Bash: npm test", a path). */

export const SUMMARY_MAX_CHARS = 60

/** Collapses whitespace to single spaces and cuts to `max` characters with an ellipsis. */
export function shorten (text: string, max = SUMMARY_MAX_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= max) return flat
  return flat.slice(0, max - 1).trimEnd() + '…'
}

/** Like `shorten`, but keeps the end of a path (the file name is what matters). */
export function shortenPath (path: string, max = SUMMARY_MAX_CHARS): string {
  const flat = path.replace(/\s+/g, ' ').trim()
  if (flat.length <= max) return flat
  return '…' + flat.slice(flat.length - (max - 1))
}

const PATH_KEYS = ['file_path', 'notebook_path', 'path'] as const
const TEXT_KEYS = ['command', 'cmd', 'pattern', 'url', 'query', 'description', 'skill', 'prompt'] as const

/** Summary of a Claude tool_use input (Bash → the command, Read/Edit/Write → the path, …). */
export function summarizeToolInput (name: string, input: unknown): string {
  if (input === null || typeof input !== 'object') return ''
  const fields = input as Record<string, unknown>
  if (name === 'TodoWrite' && Array.isArray(fields.todos)) return `${fields.todos.length} items`
  for (const key of PATH_KEYS) {
    const value = fields[key]
    if (typeof value === 'string' && value !== '') return shortenPath(value)
  }
  for (const key of TEXT_KEYS) {
    const value = fields[key]
    if (typeof value === 'string' && value !== '') return shorten(value)
  }
  for (const value of Object.values(fields)) {
    if (typeof value === 'string' && value !== '') return shorten(value)
  }
  return ''
}

/** Codex wraps commands as `/bin/bash -lc '<cmd>'`; show only the command the model wrote. */
export function unwrapShellCommand (command: string): string {
  const match = /^(?:\S*\/)?(?:ba|z)?sh -l?c '([\s\S]*)'$/.exec(command)
  if (match?.[1] !== undefined) return match[1].replaceAll("'\\''", "'")
  const dq = /^(?:\S*\/)?(?:ba|z)?sh -l?c "([\s\S]*)"$/.exec(command)
  return dq?.[1] ?? command
}

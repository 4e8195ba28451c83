/** Short, one-line summaries of tool calls for status indicators ("Bash: npm test", a path). */

const SUMMARY_MAX_CHARS = 60

/**
 * True when `text` is printable ASCII with single spaces between words: nothing to collapse or
 * trim. A plain loop, since it runs for every tool call of a stream; anything else (other
 * whitespace, non-ASCII) answers false and takes the regular expression.
 */
function isFlatAscii (text: string): boolean {
  const last = text.length - 1
  for (let i = 0; i <= last; i++) {
    const code = text.charCodeAt(i)
    if (code === 32) {
      if (i === 0 || i === last || text.charCodeAt(i + 1) === 32) return false
    } else if (code < 33 || code > 126) {
      return false
    }
  }
  return true
}

/** Collapses whitespace to single spaces and cuts to `max` characters with an ellipsis. */
export function shorten (text: string, max = SUMMARY_MAX_CHARS): string {
  const flat = isFlatAscii(text) ? text : text.replace(/\s+/g, ' ').trim()
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
  // By hand rather than by regular expression: this runs for every command item of a Codex stream.
  const quote = command.charAt(command.length - 1)
  if (quote !== "'" && quote !== '"') return command
  const space = command.indexOf(' ')
  if (space <= 0) return command
  const shell = command.slice(command.lastIndexOf('/', space) + 1, space)
  if (shell !== 'sh' && shell !== 'bash' && shell !== 'zsh') return command
  const flag = command.startsWith('-c ', space + 1) ? 3 : command.startsWith('-lc ', space + 1) ? 4 : 0
  const open = space + 1 + flag
  if (flag === 0 || command.charAt(open) !== quote || open >= command.length - 1) return command
  const inner = command.slice(open + 1, -1)
  return quote === "'" && inner.includes("'") ? inner.replaceAll("'\\''", "'") : inner
}

/**
 * A readable summary of one tool request (docs/approvals.md): what the CLI will do, in a few lines a
 * person can judge on a phone. Pure.
 */
export interface ToolSummary {
  /** One line: `Run a command`, `Write a file`, … */
  title: string
  /** The details, plain text: the command, the file and a short diff, the URL. */
  detail: string
}

const MAX_LINES = 12
const MAX_CHARS = 1200

export function summarizeTool (tool: string, input: Record<string, unknown>): ToolSummary {
  const text = (key: string): string => typeof input[key] === 'string' ? input[key] : ''
  switch (tool) {
    case 'Bash':
      return { title: 'Run a command', detail: clip(`$ ${text('command')}`) + (text('description') !== '' ? `\n(${clip(text('description'), 200)})` : '') }
    case 'Write':
      return { title: 'Write a file', detail: `${text('file_path')}\n${diff('', text('content'))}` }
    case 'Edit':
      return { title: 'Edit a file', detail: `${text('file_path')}\n${diff(text('old_string'), text('new_string'))}` }
    case 'MultiEdit': {
      const edits = Array.isArray(input['edits']) ? input['edits'] as Array<Record<string, unknown>> : []
      const first = edits[0] ?? {}
      const more = edits.length > 1 ? `\n(and ${edits.length - 1} more edits)` : ''
      return { title: 'Edit a file', detail: `${text('file_path')}\n${diff(String(first['old_string'] ?? ''), String(first['new_string'] ?? ''))}${more}` }
    }
    case 'NotebookEdit':
      return { title: 'Edit a notebook', detail: `${text('notebook_path')}\n${diff('', text('new_source'))}` }
    case 'WebFetch':
      return { title: 'Fetch a web page', detail: text('url') }
    case 'WebSearch':
      return { title: 'Search the web', detail: text('query') }
    default:
      return { title: `Use ${tool}`, detail: clip(JSON.stringify(input, null, 1)) }
  }
}

/** `- old` / `+ new` lines, cut to a short preview. */
function diff (before: string, after: string): string {
  const lines = [
    ...(before === '' ? [] : before.split('\n').map((l) => `- ${l}`)),
    ...after.split('\n').map((l) => `+ ${l}`)
  ]
  if (after.endsWith('\n')) lines.pop()
  const shown = lines.slice(0, MAX_LINES)
  const rest = lines.length - shown.length
  return clip(shown.join('\n')) + (rest > 0 ? `\n… ${rest} more lines` : '')
}

function clip (value: string, max = MAX_CHARS): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`
}

/**
 * What "Always allow this" remembers for a request: the exact command for Bash, the file for the
 * file tools, the host for WebFetch, the tool itself otherwise. A rule matches exactly that again.
 */
export function ruleKey (tool: string, input: Record<string, unknown>): string {
  const text = (key: string): string => typeof input[key] === 'string' ? input[key] : ''
  switch (tool) {
    case 'Bash': return `Bash(${text('command')})`
    case 'Write': case 'Edit': case 'MultiEdit': return `${tool}(${text('file_path')})`
    case 'NotebookEdit': return `NotebookEdit(${text('notebook_path')})`
    case 'WebFetch': {
      try { return `WebFetch(domain:${new URL(text('url')).host})` } catch { return `WebFetch(${text('url')})` }
    }
    default: return tool
  }
}

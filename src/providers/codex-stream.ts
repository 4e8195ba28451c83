/**
 * Parser for `codex exec --json` (schema in test/fixtures/cli/NOTES.md §3). Codex sends no text
 * deltas: each `agent_message` arrives whole and is emitted as one text event; the final reply
 * is the last one. Codex reports no cost and no duration, so the duration is measured here.
 */
import { emptyTokens, type CliEvent, type CliResult, type TokenUsage } from './events.ts'
import { asArray, asNumber, asObject, asString, type JsonObject } from './json-fields.ts'
import { createStreamParser, tokenUsage, type CliLines, type ParserBase, type StreamParser, type StreamParserOptions } from './stream-parser.ts'
import { shorten, shortenPath, unwrapShellCommand } from './tool-summary.ts'

const MESSAGE_SEPARATOR = '\n\n'
const RETRY_PREFIX = 'Reconnecting... '

export function createCodexStreamParser (options: StreamParserOptions): StreamParser {
  return createStreamParser(options, codexLines)
}

function codexLines (base: ParserBase): CliLines {
  const { emit, show, maxTextChars } = base
  let turns = 0
  let turnOpen = false
  let lastMessage = ''
  let textEmitted = false
  let lastError: string | undefined
  const toolsShown = new Set<string>()

  /** A tool call is shown once: when it starts, or when it completes without a start seen. */
  function showTool (item: JsonObject, completed: boolean): void {
    const id = item.id
    if (typeof id === 'string') {
      if (completed ? toolsShown.delete(id) : toolsShown.has(id)) return
      if (!completed) toolsShown.add(id)
    }
    const tool = describeTool(item)
    if (tool !== undefined) show(tool)
  }

  function onItem (item: JsonObject, completed: boolean): void {
    switch (item.type) {
      case 'agent_message': {
        if (!completed) return
        const text = typeof item.text === 'string' ? item.text : ''
        if (text === '') return
        lastMessage = text.length > maxTextChars ? text.slice(0, maxTextChars) : text
        show({ type: 'text', text: textEmitted ? MESSAGE_SEPARATOR + text : text })
        textEmitted = true
        return
      }
      case 'reasoning': {
        const text = asString(item.text) ?? ''
        if (completed && text !== '') emit({ type: 'thinking', text })
        return
      }
      case 'error': {
        const message = asString(item.message) ?? ''
        if (completed && message !== '') emit({ type: 'status', kind: 'warning', status: shorten(message, 200) })
        return
      }
      default:
        showTool(item, completed)
    }
  }

  function onError (message: string): void {
    if (message.startsWith(RETRY_PREFIX)) {
      const rest = message.slice(RETRY_PREFIX.length)
      const status = (/^\d+\/\d+ /.test(rest) ? 'retrying ' : 'reconnecting: ') + rest
      emit({ type: 'status', kind: 'retrying', status: shorten(status, 140) })
      return
    }
    lastError = message
    emit({ type: 'status', kind: 'error', status: shorten(message, 200) })
  }

  function finishTurn (line: JsonObject, failed: boolean): void {
    const errorMessage = failed ? asString(asObject(line.error)?.message) ?? lastError ?? 'Codex turn failed' : undefined
    const result: CliResult = {
      text: lastMessage,
      sessionId: base.sessionId(),
      costUsd: null,
      tokens: failed ? emptyTokens() : tokensOf(asObject(line.usage)),
      durationMs: base.elapsed(),
      numTurns: Math.max(turns, 1),
      isError: failed,
      complete: true
    }
    if (errorMessage !== undefined) result.errorMessage = errorMessage
    turnOpen = false
    base.result(result)
  }

  function handle (line: JsonObject): void {
    switch (line.type) {
      case 'thread.started':
        base.setSession(asString(line.thread_id))
        return
      case 'turn.started':
        turns++
        turnOpen = true
        lastMessage = ''
        return
      case 'item.started':
      case 'item.completed': {
        const item = asObject(line.item)
        if (item !== undefined) onItem(item, line.type === 'item.completed')
        return
      }
      case 'turn.completed': finishTurn(line, false); return
      case 'turn.failed': finishTurn(line, true); return
      case 'error': onError(asString(line.message) ?? 'unknown error')
    }
  }

  return {
    handle,
    finished: () => !turnOpen,
    salvage: () => ({ text: lastMessage, tokens: emptyTokens(), numTurns: turns, errorMessage: lastError ?? 'Codex stopped before its turn completed' })
  }
}

function tokensOf (usage: JsonObject | undefined): TokenUsage {
  // OpenAI counts cached input inside input_tokens and reasoning inside output_tokens.
  return tokenUsage(asNumber(usage?.input_tokens) ?? 0, asNumber(usage?.output_tokens) ?? 0)
}

/** The tool event for a Codex item; undefined for items that are not tool calls. */
function describeTool (item: JsonObject): CliEvent | undefined {
  switch (item.type) {
    case 'command_execution':
      return { type: 'tool', name: 'Shell', summary: shorten(unwrapShellCommand(asString(item.command) ?? '')) }
    case 'file_change': {
      const paths = (asArray(item.changes) ?? [])
        .map((c) => asString(asObject(c)?.path))
        .filter((p): p is string => p !== undefined)
      const first = paths[0]
      const summary = first === undefined ? '' : shortenPath(first) + (paths.length > 1 ? ` (+${paths.length - 1})` : '')
      return { type: 'tool', name: 'Edit', summary }
    }
    case 'mcp_tool_call': {
      const server = asString(item.server) ?? 'mcp'
      const tool = asString(item.tool) ?? 'tool'
      return { type: 'tool', name: `${server}.${tool}`, summary: '' }
    }
    case 'web_search':
      return { type: 'tool', name: 'WebSearch', summary: shorten(asString(item.query) ?? '') }
    default: // todo_list, and types this version does not know
      return undefined
  }
}

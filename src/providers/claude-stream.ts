/**
 * Parser for `claude -p --output-format stream-json --verbose --include-partial-messages`
 * (schema in test/fixtures/cli/NOTES.md §2). Emits text as deltas from `stream_event`s and uses
 * the whole `assistant` blocks only for what no delta carried, so nothing is counted twice.
 */
import { emptyTokens, type CliResult, type TokenUsage } from './events.ts'
import { asArray, asNumber, asObject, asString, type JsonObject } from './json-fields.ts'
import { appendCapped, createStreamParser, tokenUsage, type CliLines, type ParserBase, type StreamParser, type StreamParserOptions } from './stream-parser.ts'
import { summarizeToolInput } from './tool-summary.ts'

const BLOCK_SEPARATOR = '\n\n'

export function createClaudeStreamParser (options: StreamParserOptions): StreamParser {
  return createStreamParser(options, claudeLines)
}

function claudeLines (base: ParserBase): CliLines {
  const { emit, show, setSession, maxTextChars } = base

  // Text de-duplication. Deltas of the message being streamed, per content block index:
  let streamMsgId = ''
  let streamedChars: number[] = []
  // Whole `assistant` blocks of a message: they arrive one block per event, in block order.
  let blockMsgId = ''
  let blocksSeen = 0
  // Where the last emitted text came from, to separate blocks with a blank line.
  let lastTextKey = ''
  let textEmitted = false
  let streamedThinking: boolean[] = []

  // For a result pieced together when the stream stops early.
  let partialMsgId = ''
  let partialBlock = -1
  let partialText = ''
  let partialTokens: TokenUsage = emptyTokens()
  let partialTurns = 0
  let countedMsgId = ''
  let messageOutput = 0
  let lastRetry: string | undefined

  function emitText (msgId: string, block: number, text: string): void {
    if (text === '') return
    const key = `${msgId}\u0000${block}`
    const separated = textEmitted && key !== lastTextKey
    lastTextKey = key
    textEmitted = true
    show({ type: 'text', text: separated ? BLOCK_SEPARATOR + text : text })
    if (msgId !== partialMsgId) {
      partialMsgId = msgId
      partialText = ''
      partialBlock = block
    } else if (block !== partialBlock) {
      partialText = appendCapped(partialText, BLOCK_SEPARATOR, maxTextChars)
      partialBlock = block
    }
    partialText = appendCapped(partialText, text, maxTextChars)
  }

  function countMessage (msgId: string, usage: JsonObject | undefined): void {
    if (msgId === countedMsgId) return
    countedMsgId = msgId
    partialTurns++
    messageOutput = asNumber(usage?.output_tokens) ?? 0
    addTokens(inputTokens(usage), messageOutput)
  }

  function addTokens (input: number, output: number): void {
    partialTokens = tokenUsage(partialTokens.input + input, partialTokens.output + output)
  }

  function onStreamEvent (line: JsonObject): void {
    if (line.parent_tool_use_id != null) return // a sub-agent's own stream: not the reply
    const event = asObject(line.event)
    if (event === undefined) return
    switch (event.type) {
      case 'message_start': {
        const message = asObject(event.message)
        streamMsgId = asString(message?.id) ?? ''
        streamedChars = []
        streamedThinking = []
        countMessage(streamMsgId, asObject(message?.usage))
        break
      }
      case 'content_block_delta': {
        const index = asNumber(event.index) ?? 0
        const delta = asObject(event.delta)
        if (delta === undefined) return
        // A block already delivered whole (odd ordering) must not be repeated.
        if (blockMsgId === streamMsgId && index < blocksSeen) return
        if (delta.type === 'text_delta') {
          const text = asString(delta.text) ?? ''
          streamedChars[index] = (streamedChars[index] ?? 0) + text.length
          emitText(streamMsgId, index, text)
        } else if (delta.type === 'thinking_delta') {
          const text = asString(delta.thinking) ?? ''
          if (text !== '') {
            streamedThinking[index] = true
            emit({ type: 'thinking', text })
          }
        }
        break
      }
      case 'message_delta': {
        const output = asNumber(asObject(event.usage)?.output_tokens)
        if (output !== undefined && output > messageOutput) {
          addTokens(0, output - messageOutput)
          messageOutput = output
        }
        break
      }
    }
  }

  function onAssistant (line: JsonObject): void {
    const message = asObject(line.message)
    const content = asArray(message?.content)
    if (message === undefined || content === undefined) return
    if (line.parent_tool_use_id != null) { // a sub-agent at work: show its tools only
      for (const raw of content) emitTool(asObject(raw))
      return
    }
    const msgId = asString(message.id) ?? ''
    if (msgId !== blockMsgId) {
      blockMsgId = msgId
      blocksSeen = 0
    }
    // A synthetic message carrying an API error: the result says it again, as an error.
    const apiError = line.error !== undefined && line.error !== null
    countMessage(msgId, asObject(message.usage))
    for (const raw of content) {
      const index = blocksSeen++
      const block = asObject(raw)
      if (block === undefined || apiError) continue
      if (block.type === 'tool_use') {
        emitTool(block)
      } else if (block.type === 'text') {
        const text = asString(block.text) ?? ''
        const streamed = msgId === streamMsgId ? streamedChars[index] ?? 0 : 0
        if (text.length > streamed) emitText(msgId, index, text.slice(streamed))
      } else if (block.type === 'thinking') {
        const text = asString(block.thinking) ?? ''
        const streamed = msgId === streamMsgId && streamedThinking[index] === true
        if (text !== '' && !streamed) emit({ type: 'thinking', text })
      }
    }
  }

  function emitTool (block: JsonObject | undefined): void {
    if (block?.type !== 'tool_use') return
    const name = asString(block.name) ?? 'tool'
    show({ type: 'tool', name, summary: summarizeToolInput(name, block.input) })
  }

  function onSystem (line: JsonObject): void {
    switch (line.subtype) {
      case 'init':
        setSession(asString(line.session_id))
        break
      case 'api_retry': {
        const attempt = asNumber(line.attempt) ?? 0
        const max = asNumber(line.max_retries) ?? 0
        const error = asString(line.error) ?? 'error'
        const status = asNumber(line.error_status)
        lastRetry = status === undefined ? error : `${error}, HTTP ${status}`
        emit({ type: 'status', kind: 'retrying', status: `retrying ${attempt}/${max} (${error})` })
        break
      }
      case 'status': {
        const status = asString(line.status)
        if (status === 'compacting') emit({ type: 'status', kind: 'compacting', status })
        else if (status !== undefined && status !== 'requesting') emit({ type: 'status', kind: 'info', status })
        break
      }
      case 'compact_boundary':
        emit({ type: 'status', kind: 'compacting', status: 'compacted' })
        break
    }
  }

  function onResult (line: JsonObject): void {
    const usage = asObject(line.usage)
    const text = asString(line.result) ?? ''
    const subtype = asString(line.subtype)
    const isError = line.is_error === true || (subtype !== undefined && subtype !== 'success')
    const errors = (asArray(line.errors) ?? []).filter((e): e is string => typeof e === 'string')
    const result: CliResult = {
      text,
      sessionId: asString(line.session_id) ?? base.sessionId(),
      costUsd: asNumber(line.total_cost_usd) ?? null,
      tokens: usage === undefined ? partialTokens : tokensOf(usage),
      durationMs: asNumber(line.duration_ms) ?? base.elapsed(),
      numTurns: asNumber(line.num_turns) ?? partialTurns,
      isError,
      complete: true
    }
    if (isError) result.errorMessage = firstNonEmpty(text, errors.join('; '), subtype ?? 'error')
    const apiStatus = asNumber(line.api_error_status)
    if (apiStatus !== undefined) result.apiErrorStatus = apiStatus
    base.result(result)
    // A stream fed several prompts starts over after each result.
    lastTextKey = ''
    textEmitted = false
    partialText = ''
    partialMsgId = ''
    partialTokens = emptyTokens()
    partialTurns = 0
  }

  function handle (line: JsonObject): void {
    switch (line.type) {
      case 'stream_event': onStreamEvent(line); break
      case 'assistant': onAssistant(line); break
      case 'system': onSystem(line); break
      case 'result': onResult(line); break
      default:
        if (line.type !== 'user' && base.sessionId() === null) setSession(asString(line.session_id))
    }
  }

  return {
    handle,
    finished: () => partialTurns === 0 && partialText === '',
    salvage: () => ({
      text: partialText,
      tokens: partialTokens,
      numTurns: partialTurns,
      errorMessage: lastRetry === undefined
        ? 'Claude stopped before its final result'
        : `Claude stopped before its final result (last API error: ${lastRetry})`
    })
  }
}

function inputTokens (usage: JsonObject | undefined): number {
  if (usage === undefined) return 0
  return (asNumber(usage.input_tokens) ?? 0) +
    (asNumber(usage.cache_creation_input_tokens) ?? 0) +
    (asNumber(usage.cache_read_input_tokens) ?? 0)
}

function tokensOf (usage: JsonObject): TokenUsage {
  return tokenUsage(inputTokens(usage), asNumber(usage.output_tokens) ?? 0)
}

function firstNonEmpty (...values: string[]): string {
  return values.find((v) => v.trim() !== '') ?? ''
}

// A fake Anthropic Messages API, good enough for Claude Code 2.1.197 (see test/fixtures/cli/NOTES.md §2):
// `HEAD /` → 404, `POST /v1/messages` streamed as SSE (or one JSON message when `stream` is not true),
// `POST /v1/messages/count_tokens`, scripted errors with `retry-after`, and every request recorded.
import type { ServerResponse } from 'node:http'
import { sendJson, sseStream, startRecordingServer, type RecordedRequest } from './http-server.ts'
import {
  allStrings, contentText, createReplies, isRecord, markerScript, pad, splitText,
  type FakeModelApi, type FakeModelApiOptions, type FakeReply, type ModelCall, type Turn
} from './script.ts'

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error'
}

const ERROR_MESSAGES: Record<number, string> = {
  401: 'fake invalid x-api-key',
  429: 'fake rate limit',
  500: 'fake internal server error',
  529: 'fake overloaded'
}

export async function startFakeAnthropic (options: FakeModelApiOptions = {}): Promise<FakeModelApi> {
  const calls: ModelCall[] = []
  const replies = createReplies(markerScript('fake-anthropic'), options.reply)
  let serial = 0

  const server = await startRecordingServer(async (req, res, signal) => {
    if (req.method === 'HEAD') {
      res.writeHead(404).end()
      return
    }
    if (req.method === 'POST' && req.path === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: estimateTokens(req.raw) })
      return
    }
    if (req.method !== 'POST' || req.path !== '/v1/messages' || !isRecord(req.body)) {
      sendError(res, 404, `fake-anthropic has no ${req.method} ${req.path}`)
      return
    }
    const call = modelCall(req, req.body, calls.length)
    calls.push(call)
    const reply = await replies.next(call)
    const n = ++serial
    if (reply.kind === 'error') {
      sendError(res, reply.status, reply.message ?? ERROR_MESSAGES[reply.status] ?? `fake error ${reply.status}`, n, reply.retryAfter)
      return
    }
    const model = typeof call.body['model'] === 'string' ? call.body['model'] : 'claude-sonnet-5'
    const blocks = replyBlocks(reply, n)
    const stopReason = reply.kind === 'tool' ? 'tool_use' : 'end_turn'
    const usage = { input_tokens: estimateTokens(req.raw), cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: 'standard' }
    const outputTokens = estimateTokens(JSON.stringify(blocks))
    const id = `msg_fake_${pad(n)}`
    if (call.body['stream'] !== true) {
      sendJson(res, 200, { id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage: { ...usage, output_tokens: outputTokens } }, { 'request-id': `req_fake_${pad(n)}` })
      return
    }
    const sse = sseStream(res, signal, { 'request-id': `req_fake_${pad(n)}` })
    sse.send('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } })
    sse.send('ping', {})
    for (const [index, block] of blocks.entries()) {
      if (block.type === 'text') {
        sse.send('content_block_start', { index, content_block: { type: 'text', text: '' } })
        const text = String(block['text'])
        const delayMs = reply.kind === 'text' ? reply.delayMs ?? 0 : 0
        for (const piece of splitText(text, reply.kind === 'text' ? reply.chunks ?? 2 : 2)) {
          await sse.pause(delayMs)
          sse.send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } })
        }
      } else {
        sse.send('content_block_start', { index, content_block: { ...block, input: {} } })
        const json = JSON.stringify(block['input'])
        for (const piece of ['', ...splitText(json, 2)]) {
          sse.send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } })
        }
      }
      sse.send('content_block_stop', { index })
    }
    sse.send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } })
    sse.send('message_stop', {})
    sse.end()
  })

  return { ...server, baseUrl: server.url, calls, enqueue: replies.enqueue, setReply: replies.setReply }
}

type Block = { type: string } & Record<string, unknown>

function replyBlocks (reply: Exclude<FakeReply, { kind: 'error' }>, n: number): Block[] {
  if (reply.kind === 'text') return [{ type: 'text', text: reply.text }]
  const tool: Block = { type: 'tool_use', id: `toolu_fake_${pad(n)}`, name: reply.name ?? 'Bash', input: reply.input ?? { command: reply.command, description: `Run ${reply.command}` } }
  return reply.text === undefined ? [tool] : [{ type: 'text', text: reply.text }, tool]
}

function modelCall (req: RecordedRequest, body: Record<string, unknown>, index: number): ModelCall {
  const messages = Array.isArray(body['messages']) ? body['messages'].filter(isRecord) : []
  const turns: Turn[] = messages.map((m) => ({ role: String(m['role']), text: contentText(m['content']) }))
  // Claude Code also puts `role: "system"` messages in `messages`, after the user turn they belong to.
  const last = messages.findLast((m) => m['role'] !== 'system')
  const blocks = last !== undefined && Array.isArray(last['content']) ? last['content'].filter(isRecord) : []
  const toolResult = blocks.find((b) => b['type'] === 'tool_result')
  const texts = last === undefined
    ? []
    : typeof last['content'] === 'string'
      ? [last['content']]
      : blocks.filter((b) => b['type'] === 'text' && typeof b['text'] === 'string' && !b['text'].startsWith('<system-reminder>')).map((b) => String(b['text']))
  return {
    index,
    headers: req.headers,
    body,
    prompt: last?.['role'] === 'user' ? texts.at(-1) ?? '' : '',
    toolResult: toolResult === undefined ? undefined : contentText(toolResult['content']),
    turns,
    transcript: allStrings(messages).join('\n')
  }
}

function sendError (res: ServerResponse, status: number, message: string, n = 0, retryAfter?: number): void {
  const headers: Record<string, string> = { 'request-id': `req_fake_${pad(n)}` }
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  sendJson(res, status, { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message } }, headers)
}

function estimateTokens (text: string): number {
  return Math.max(1, Math.ceil(text.length / 4))
}

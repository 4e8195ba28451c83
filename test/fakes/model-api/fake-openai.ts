// A fake OpenAI Responses API, good enough for Codex 0.169.0 with a custom provider (see
// test/fixtures/cli/NOTES.md §3): `POST /v1/responses` streamed as SSE, a `function_call`
// (`exec_command`) variant, scripted errors, every request recorded, WebSocket upgrades refused.
import type { ServerResponse } from 'node:http'
import { sendJson, sseStream, startRecordingServer, type RecordedRequest } from './http-server.ts'
import {
  allStrings, contentText, createReplies, isRecord, markerScript, pad, splitText,
  type FakeModelApi, type FakeModelApiOptions, type FakeReply, type ModelCall, type Turn
} from './script.ts'

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  503: 'server_error'
}

const ERROR_MESSAGES: Record<number, string> = {
  400: 'fake bad request',
  401: 'Incorrect API key provided: fake',
  429: 'fake rate limit',
  500: 'fake internal server error'
}

export async function startFakeOpenAI (options: FakeModelApiOptions = {}): Promise<FakeModelApi> {
  const calls: ModelCall[] = []
  const replies = createReplies(markerScript('fake-openai'), options.reply)
  let serial = 0

  const server = await startRecordingServer(async (req, res, signal) => {
    if (req.method !== 'POST' || req.path !== '/v1/responses' || !isRecord(req.body)) {
      sendError(res, 404, `fake-openai has no ${req.method} ${req.path}`)
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
    const model = typeof call.body['model'] === 'string' ? call.body['model'] : 'gpt-5.5'
    const id = `resp_fake_${pad(n)}`
    const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model }
    const sse = sseStream(res, signal, { 'x-request-id': `req_fake_${pad(n)}` })
    let seq = 0
    const send = (type: string, data: Record<string, unknown>): void => { sse.send(type, { sequence_number: seq++, ...data }) }
    send('response.created', { response: { ...base, status: 'in_progress', output: [] } })
    send('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } })
    const item = reply.kind === 'text' ? await streamMessage(send, sse.pause, reply, n) : streamToolCall(send, reply.command, n)
    const inputTokens = Math.max(1, Math.ceil(req.raw.length / 4))
    const outputTokens = Math.max(1, Math.ceil(JSON.stringify(item).length / 4))
    send('response.completed', {
      response: {
        ...base,
        status: 'completed',
        output: [item],
        usage: {
          input_tokens: inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: inputTokens + outputTokens
        }
      }
    })
    sse.end()
  })

  return { ...server, baseUrl: `${server.url}/v1`, calls, enqueue: replies.enqueue, setReply: replies.setReply }
}

type Send = (type: string, data: Record<string, unknown>) => void

async function streamMessage (send: Send, pause: (ms: number) => Promise<void>, reply: Extract<FakeReply, { kind: 'text' }>, n: number): Promise<Record<string, unknown>> {
  const itemId = `msg_fake_${pad(n)}`
  const at = { item_id: itemId, output_index: 0, content_index: 0 }
  send('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } })
  send('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } })
  for (const delta of splitText(reply.text, reply.chunks ?? 2)) {
    await pause(reply.delayMs ?? 0)
    send('response.output_text.delta', { ...at, delta })
  }
  const part = { type: 'output_text', text: reply.text, annotations: [] }
  send('response.output_text.done', { ...at, text: reply.text })
  send('response.content_part.done', { ...at, part })
  const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] }
  send('response.output_item.done', { output_index: 0, item })
  return item
}

function streamToolCall (send: Send, command: string, n: number): Record<string, unknown> {
  const itemId = `fc_fake_${pad(n)}`
  const args = JSON.stringify({ cmd: command })
  const item = { id: itemId, type: 'function_call', status: 'completed', name: 'exec_command', arguments: args, call_id: `call_fake_${pad(n)}` }
  send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } })
  for (const delta of splitText(args, 2)) send('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta })
  send('response.function_call_arguments.done', { item_id: itemId, output_index: 0, arguments: args })
  send('response.output_item.done', { output_index: 0, item })
  return item
}

function modelCall (req: RecordedRequest, body: Record<string, unknown>, index: number): ModelCall {
  const input = Array.isArray(body['input']) ? body['input'].filter(isRecord) : []
  const messages = input.filter((i) => i['type'] === 'message' || (i['type'] === undefined && typeof i['role'] === 'string'))
  const turns: Turn[] = input.flatMap((i): Turn[] => {
    if (messages.includes(i)) return [{ role: String(i['role']), text: contentText(i['content']) }]
    if (i['type'] === 'function_call') return [{ role: 'assistant', text: `${String(i['name'])} ${String(i['arguments'])}` }]
    if (i['type'] === 'function_call_output') return [{ role: 'tool', text: outputText(i['output']) }]
    return []
  })
  const last = input.at(-1)
  const lastUser = messages.findLast((m) => m['role'] === 'user')
  return {
    index,
    headers: req.headers,
    body,
    prompt: last === lastUser && lastUser !== undefined ? contentText(lastUser['content']) : '',
    toolResult: last?.['type'] === 'function_call_output' ? outputText(last['output']) : undefined,
    turns,
    transcript: allStrings(input).join('\n')
  }
}

function outputText (output: unknown): string {
  return typeof output === 'string' ? output : contentText(output)
}

function sendError (res: ServerResponse, status: number, message: string, n = 0, retryAfter?: number): void {
  const headers: Record<string, string> = { 'x-request-id': `req_fake_${pad(n)}` }
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  sendJson(res, status, { error: { message, type: ERROR_TYPES[status] ?? 'server_error', param: null, code: null } }, headers)
}

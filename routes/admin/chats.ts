import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from 'typebox'
import { Type } from '../../src/schema-type.ts'
import { ChatIdParams, ProviderSchema, errorResponses } from './schemas.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'
import { providerOfModel, describeKnownModels } from '../../src/models.ts'
import type { ChatEvent } from '../../src/core/sink.ts'
import type { MessageOutcome } from '../../src/core/orchestrator.ts'
import { approvalJson } from './approvals.ts'
import { ambiguousChatKey } from '../../src/core/chat-id.ts'

const MessageBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 100_000 }),
  provider: Type.Optional(ProviderSchema),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 100 }))
}, { additionalProperties: false })

const ChatReplySchema = Type.Object({
  run_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: '`success` or an `error:…` code' }),
  reply: Type.String(),
  provider: Type.Union([ProviderSchema, Type.Null()]),
  model: Type.Union([Type.String(), Type.Null()]),
  session_id: Type.Union([Type.String(), Type.Null()]),
  cost_usd: Type.Union([Type.Number(), Type.Null()]),
  tokens: Type.Union([Type.Integer(), Type.Null()])
})
type ChatReply = Static<typeof ChatReplySchema>

/** The chat endpoint (SPEC §10): runs a prompt through the chat's lane; JSON when done, or SSE live. */
const chatRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { orchestrator } = app
  const stopping = (): boolean => app.runner.claims.isShut
  // Requests still open when the service stops are answered, not cut: the core stops their runs in
  // its preClose, each gets its 503 (or SSE `error` event), and only then are connections closed.
  const open = new Set<Promise<void>>()
  app.addHook('preClose', async () => {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled([...open]), new Promise((resolve) => { timer = setTimeout(resolve, 5000) })])
    clearTimeout(timer)
  })

  app.post('/chats/:chatId/messages', {
    schema: {
      summary: 'Send a message to a chat and get the reply',
      description: 'Runs the text through the chat\'s lane like a Telegram message. With `Accept: text/event-stream` the events stream as SSE (`text`, `tool`, `status`, `approval`, `approval_settled`, `result`, `error`) and the stream ends after `result`.',
      tags: ['chat'],
      params: ChatIdParams,
      body: MessageBody,
      response: { 200: ChatReplySchema, ...errorResponses }
    }
  }, async (request, reply) => {
    const { chatId } = request.params
    const { text, provider, model } = request.body
    const ambiguous = ambiguousChatKey(chatId)
    if (ambiguous !== null) throw new DuctorError(ErrorCodes.badRequest, `chat id ${ambiguous}`)
    if (model !== undefined) {
      const owner = providerOfModel(model)
      if (owner === null) throw new DuctorError(ErrorCodes.badRequest, `body/model: unknown model "${model}"; known: ${describeKnownModels()}`)
      if (provider !== undefined && owner !== provider) throw new DuctorError(ErrorCodes.badRequest, `body/model: "${model}" is a ${owner} model, not a ${provider} one`)
    }
    const input = { chatId, text, origin: 'api', provider, model, alsoDeliver: true }
    const answered = new Promise<void>((resolve) => { reply.raw.once('close', resolve) })
    open.add(answered)
    answered.finally(() => open.delete(answered)).catch(() => {})

    if (!(request.headers.accept ?? '').includes('text/event-stream')) {
      const outcome = await orchestrator.handleMessage({ ...input, sink: { emit () {} } })
      const final = toReply(outcome)
      if (final.status !== 'success' && stopping()) throw new DuctorError(ErrorCodes.unavailable, SHUTDOWN_MESSAGE)
      return final
    }

    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    const send = (event: string, data: unknown): void => {
      if (!raw.writableEnded) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    const mask = (text: string): string => app.settings.secrets.mask(text)
    const outcome = await orchestrator.handleMessage({ ...input, sink: { emit: (e) => { sseEvent(e, send, mask) } } })
    const final = toReply(outcome)
    if (final.status !== 'success' && outcome.kind !== 'run') send('error', { error: final.status, message: final.reply })
    if (final.status !== 'success' && stopping()) send('error', { error: ErrorCodes.unavailable, message: SHUTDOWN_MESSAGE })
    send('result', final)
    raw.end()
  })

  app.post('/chats/:chatId/stop', {
    schema: {
      summary: 'Stop the chat\'s running reply and drop its queue',
      tags: ['chat'],
      params: ChatIdParams,
      response: { 200: Type.Object({ stopped: Type.Boolean(), discarded: Type.Integer() }), ...errorResponses }
    }
  }, async (request) => orchestrator.abort(request.params.chatId))
}

const SHUTDOWN_MESSAGE = 'ductor is shutting down: this message was stopped before its reply was complete (or before it ran). Send it again once ductor is back.'

function sseEvent (e: ChatEvent, send: (event: string, data: unknown) => void, mask: (text: string) => string): void {
  switch (e.type) {
    case 'cli':
      if (e.event.type === 'text') send('text', { text: e.event.text })
      else if (e.event.type === 'tool') send('tool', { name: e.event.name, summary: e.event.summary })
      else if (e.event.type === 'thinking') send('status', { status: 'thinking', text: e.event.text })
      else if (e.event.type === 'status') send('status', { status: e.event.status, kind: e.event.kind })
      return
    case 'queued': send('status', { status: 'queued', position: e.position }); return
    case 'run_started': send('status', { status: 'running', run_id: e.runId, provider: e.provider, model: e.model }); return
    case 'notice': send('status', { status: 'notice', text: e.text }); return
    // Answer with POST /api/approvals/:id (docs/approvals.md).
    case 'approval': send('approval', approvalJson(e.request, mask)); return
    case 'approval_settled': send('approval_settled', { id: e.request.id, outcome: e.outcome, by: e.by }); return
    case 'result':
      if (e.summary.error !== null) send('error', { error: e.summary.status, message: e.summary.error })
      break
    default:
  }
}

function toReply (outcome: MessageOutcome): ChatReply {
  const empty = { run_id: null, provider: null, model: null, session_id: null, cost_usd: null, tokens: null }
  switch (outcome.kind) {
    case 'run': {
      const s = outcome.summary
      return { run_id: s.runId, status: s.status, reply: s.status === 'success' ? s.reply : (s.reply !== '' ? `${s.reply}\n\n${s.error ?? ''}` : s.error ?? ''), provider: s.provider, model: s.model, session_id: s.sessionId, cost_usd: s.costUsd, tokens: s.tokens }
    }
    case 'command': return { ...empty, status: 'success', reply: outcome.reply.text }
    case 'aborted': return { ...empty, status: 'success', reply: outcome.stopped || outcome.discarded > 0 ? 'Stopped.' : 'Nothing is running.' }
    case 'notice': return { ...empty, status: 'error:bad_request', reply: outcome.text }
    case 'discarded': return { ...empty, status: 'error:aborted', reply: 'The message was discarded before it ran.' }
  }
}

export default chatRoutes

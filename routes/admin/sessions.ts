import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import { ChatIdParams, ProviderSchema, errorResponses } from './schemas.ts'
import { SessionEntrySchema } from '../../src/core/sessions.ts'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'

/** Sessions (SPEC §6, §10): list, read, and reset a chat's session or one provider's bucket. */
const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { sessions } = app.stores

  app.get('/sessions', {
    schema: { summary: 'List every chat\'s session', tags: ['sessions'], response: { 200: Type.Object({ sessions: Type.Array(SessionEntrySchema) }), ...errorResponses } }
  }, async () => ({ sessions: sessions.list() }))

  app.get('/sessions/:chatId', {
    schema: { summary: 'One chat\'s session', tags: ['sessions'], params: ChatIdParams, response: { 200: SessionEntrySchema, ...errorResponses } }
  }, async (request) => {
    const entry = sessions.get(request.params.chatId)
    if (entry === undefined) throw new DuctorError(ErrorCodes.notFound, `no session for chat ${request.params.chatId}`)
    return entry
  })

  app.delete('/sessions/:chatId', {
    schema: {
      summary: 'Reset a chat\'s session (or only one provider\'s with ?provider=)',
      tags: ['sessions'],
      params: ChatIdParams,
      querystring: Type.Object({ provider: Type.Optional(ProviderSchema) }),
      response: { 200: Type.Object({ deleted: Type.Boolean() }), ...errorResponses }
    }
  }, async (request) => {
    const { chatId } = request.params
    if (app.orchestrator.isBusy(chatId)) throw new DuctorError(ErrorCodes.conflict, `chat ${chatId} is running a reply; stop it first (POST /api/chats/${chatId}/stop)`)
    const deleted = sessions.delete(chatId, request.query.provider)
    if (!deleted) throw new DuctorError(ErrorCodes.notFound, `no session for chat ${chatId}${request.query.provider !== undefined ? ` and provider ${request.query.provider}` : ''}`)
    await sessions.flush()
    return { deleted }
  })
}

export default sessionRoutes

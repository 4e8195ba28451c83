import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { Type } from '../../src/schema-type.ts'
import { randomUUID } from 'node:crypto'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'
import { checkDelivery } from '../../src/webhooks/ingress.ts'
import { encodeDelivery, type WebhookDelivery } from '../../src/webhooks/dispatch.ts'

const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() })
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody, 500: ErrorBody, 503: ErrorBody }

/**
 * `POST /hooks/:hookId` (SPEC §9), in its own scope: a rate limit per hook and client address (429),
 * a raw-body parser for every content type with `webhooks.max_body_bytes` as its limit (413), then
 * `checkDelivery` decides (404, 403, 401, 415, 400) before any JSON is parsed. An accepted delivery
 * is journaled in the inbox before the answer (202; a repeated delivery id, or a replay of the signed
 * content or of a body within the hook's window, answers 200 duplicate)
 * and dispatched in the background.
 */
const hookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { webhooks, inbox } = app
  const { config, clock } = app.settings
  const maxBody = config().webhooks.max_body_bytes

  await app.register(rateLimit, {
    global: true,
    max: () => config().webhooks.rate_limit_per_minute,
    timeWindow: 60_000,
    // The x-ratelimit-* headers only on a 429 (with retry-after), not on every accepted delivery:
    // webhook senders do not read them, and three headers per 202 cost each delivery (ADR 0036).
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    keyGenerator: (request) => `${request.ip}|${(request.params as { hookId?: string }).hookId ?? ''}`,
    errorResponseBuilder: (_request, context) => new DuctorError(ErrorCodes.rateLimited,
      `too many deliveries to this webhook from your address: at most ${context.max} a minute (webhooks.rate_limit_per_minute); retry in ${context.after}`)
  })

  // Signatures are over the exact bytes: nothing is parsed here, whatever the content type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBody }, (_request, body, done) => { done(null, body) })

  app.setErrorHandler((err: FastifyError | DuctorError, request, reply) => {
    if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: ErrorCodes.payloadTooLarge, message: `the request body is larger than ${maxBody} bytes (webhooks.max_body_bytes)` })
    }
    throw err
  })

  // No params schema: the router hands `hookId` over as a string, and validating it would only cost
  // each delivery a validator call (ADR 0048).
  app.post<{ Params: { hookId: string } }>('/hooks/:hookId', {
    bodyLimit: maxBody,
    schema: {
      hide: true,
      response: {
        202: Type.Object({ accepted: Type.Literal(true), hook_id: Type.String(), delivery_id: Type.String() }),
        200: Type.Object({ accepted: Type.Literal(false), duplicate: Type.Literal(true), delivery_id: Type.String() }),
        ...errors
      }
    }
  }, async (request, reply) => {
    const { hookId } = request.params
    const c = config().webhooks
    // A hand edit of webhooks.json to pick up first: rare, and then awaited (no promise otherwise).
    const reread = webhooks.refresh()
    if (reread !== undefined) await reread
    const result = checkDelivery(webhooks.store, { enabled: c.enabled, max_body_bytes: c.max_body_bytes, token: c.token }, {
      hookId,
      headers: request.headers,
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      contentType: request.headers['content-type'],
      now: clock.now()
    })
    // Bindings per line, not a child logger per request: a pino child costs more than the line it would bind.
    const log = request.log
    if (!result.ok) {
      log.info({ ingress: 'webhook', hookId, status: result.status, reason: result.logReason ?? result.error }, 'webhook delivery refused')
      return await reply.code(result.status).send({ error: result.error, message: result.message })
    }
    const deliveryId = result.deliveryId ?? randomUUID()
    const delivery: WebhookDelivery = { hook_id: result.hook.id, delivery_id: deliveryId, payload: result.payload }
    // The delivery id and the replay keys (signed content, body window) all mark a duplicate (issue 15);
    // an id made up here is not remembered: nobody can send it again.
    const encoded = Buffer.isBuffer(request.body) ? encodeDelivery(delivery, request.body) : null
    const accepted = await inbox.accept('webhook', `${result.hook.id}:${deliveryId}`, delivery, result.replayKeys, {
      remember: result.deliveryId !== null,
      ...(encoded !== null && { encoded })
    })
    if (accepted.status === 'duplicate') {
      log.info({ ingress: 'webhook', hookId, deliveryId, ...(result.retryNum !== undefined && { slackRetry: result.retryNum }) }, 'duplicate webhook delivery ignored')
      return await reply.code(200).send({ accepted: false, duplicate: true, delivery_id: deliveryId })
    }
    log.info({ ingress: 'webhook', hookId, deliveryId, seq: accepted.seq }, 'webhook delivery accepted')
    // Returned, not sent and awaited: Fastify serializes and sends what an async handler returns.
    reply.code(202)
    return { accepted: true as const, hook_id: result.hook.id, delivery_id: deliveryId }
  })
}

export default hookRoutes

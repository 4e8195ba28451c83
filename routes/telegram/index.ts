import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../src/schema-type.ts'
import type { Update } from 'grammy/types'
import { DuctorError, ErrorCodes } from '../../src/errors.ts'
import { safeEqual } from '../../src/safe-equal.ts'
import { ErrorSchema } from '../admin/schemas.ts'

export interface TelegramRoutesOptions {
  path: string
  /** The `secret_token` given to setWebhook (read live). */
  secret: () => string
  accept: (update: Update) => Promise<'accepted' | 'duplicate'>
}

const UpdateSchema = Type.Object({ update_id: Type.Integer({ minimum: 0 }) }, { additionalProperties: true })

/**
 * `POST {telegram.webhook_path}` (SPEC §3, §4): the secret header is checked in constant time before
 * the body is looked at; the update is recorded in the durable inbox (duplicates by update_id are
 * ignored) and acknowledged with 200 at once; the bot processes it in the background.
 */
const telegramRoutes: FastifyPluginAsyncTypebox<TelegramRoutesOptions> = async (app, opts) => {
  app.post(opts.path, {
    schema: {
      hide: true,
      body: UpdateSchema,
      response: { 200: Type.Object({ ok: Type.Boolean(), duplicate: Type.Optional(Type.Boolean()) }), 400: ErrorSchema, 401: ErrorSchema, 500: ErrorSchema, 503: ErrorSchema }
    },
    onRequest: async (request) => {
      const given = request.headers['x-telegram-bot-api-secret-token']
      const expected = opts.secret()
      if (typeof given !== 'string' || expected === '' || !safeEqual(given, expected)) {
        throw new DuctorError(ErrorCodes.unauthorized, 'missing or wrong X-Telegram-Bot-Api-Secret-Token')
      }
    }
  }, async (request) => {
    const status = await opts.accept(request.body as Update)
    return status === 'duplicate' ? { ok: true, duplicate: true } : { ok: true }
  })
}

export default telegramRoutes

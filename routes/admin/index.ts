import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import swagger from '@fastify/swagger'
import adminAuth from '../../plugins/admin-auth.ts'
import chatRoutes from './chats.ts'
import sessionRoutes from './sessions.ts'
import memoryRoutes from './memory.ts'
import runRoutes from './runs.ts'
import configRoutes from './config.ts'
import cronRoutes from './cron.ts'
import statusRoutes from './status.ts'
import webhookRoutes from './webhooks.ts'
import approvalRoutes from './approvals.ts'

/**
 * The admin REST API under /api (SPEC §10): bearer token on every route (the OpenAPI document
 * included), no proxied requests, TypeBox schemas on every route, documented at /api/openapi.json.
 */
const adminRoutes: FastifyPluginAsyncTypebox<{ version: string }> = async (app, opts) => {
  const config = app.settings.config
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'ductor admin API', version: opts.version, description: 'Manage a ductor service: chats, sessions, memory, cron jobs, webhooks, runs, config. Every route needs `Authorization: Bearer <admin.token>`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }]
    }
  })
  await app.register(adminAuth, { token: () => config().admin.token, allowProxied: () => config().admin.allow_proxied })
  // JSON in, JSON out: Fastify's built-in text/plain parser would hand a string to the schema (a 400);
  // without it a text body is the 415 the docs promise.
  app.removeContentTypeParser('text/plain')
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(statusRoutes, { version: opts.version })
  await app.register(chatRoutes)
  await app.register(sessionRoutes)
  await app.register(memoryRoutes)
  await app.register(runRoutes)
  await app.register(configRoutes)
  await app.register(cronRoutes)
  await app.register(webhookRoutes)
  await app.register(approvalRoutes)
}

export default adminRoutes

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import adminAuth from '../../plugins/admin-auth.ts'
import chatRoutes from './chats.ts'

/** The admin REST API under /api (SPEC §10): bearer token on every route, no proxied requests. */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const config = app.core.config
  await app.register(adminAuth, { token: () => config().admin.token, allowProxied: () => config().admin.allow_proxied })
  await app.register(chatRoutes)
}

export default adminRoutes

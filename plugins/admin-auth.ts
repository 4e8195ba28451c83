import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { safeEqual } from '../src/safe-equal.ts'
import { DuctorError, ErrorCodes } from '../src/errors.ts'

/**
 * Guards the admin API (SPEC §10): every `/api` route needs `Authorization: Bearer <admin.token>`,
 * compared in constant time, and a request that came through a proxy (`X-Forwarded-For`,
 * `Forwarded`, `X-Real-IP`) is refused with 403 unless `admin.allow_proxied` — so a reverse proxy put
 * in front of Telegram and webhooks never exposes the admin API. Register it inside the /api scope.
 */
export interface AdminAuthOptions {
  token: () => string
  allowProxied: () => boolean
}

async function adminAuth (app: FastifyInstance, opts: AdminAuthOptions): Promise<void> {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!opts.allowProxied() && isProxied(request)) {
      throw new DuctorError(ErrorCodes.forbidden, 'the admin API does not accept proxied requests; call it on the local address, or set admin.allow_proxied')
    }
    const header = request.headers.authorization
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : ''
    const expected = opts.token()
    if (given === '' || expected === '' || !safeEqual(given, expected)) {
      throw new DuctorError(ErrorCodes.unauthorized, 'missing or wrong admin token: send "Authorization: Bearer <admin.token>" (see config/config.json)')
    }
  })
}

function isProxied (request: FastifyRequest): boolean {
  const h = request.headers
  return h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined
}

export default fp(adminAuth, { name: 'admin-auth', encapsulate: false })

import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { safeEqual } from '../src/safe-equal.ts'
import { bearerToken } from '../src/bearer.ts'
import { DuctorError, ErrorCodes } from '../src/errors.ts'

/**
 * Guards the admin API (SPEC §10): every `/api` route needs `Authorization: Bearer <admin.token>`,
 * compared in constant time (the scheme case-insensitive), and a request that shows signs of a proxy
 * (any of PROXY_HEADERS) is refused with 403 unless `admin.allow_proxied`. The first line is the
 * listener: /api answers only on the admin listener (ADR 14). Register it inside the /api scope.
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
    // The scheme is case-insensitive (RFC 9110), as on /hooks.
    const given = bearerToken(header) ?? ''
    const expected = opts.token()
    if (given === '' || expected === '' || !safeEqual(given, expected)) {
      throw new DuctorError(ErrorCodes.unauthorized, 'missing or wrong admin token: send "Authorization: Bearer <admin.token>" (see config/config.json)')
    }
  })
}

/**
 * Headers a reverse proxy or CDN adds (or that a client adds to look like one went through). The
 * admin API has its own loopback listener (ADR 14), so this is the second line: a proxy pointed at
 * that listener by hand still shows itself by one of these in almost every setup.
 */
const PROXY_HEADERS = [
  'x-forwarded-for', 'forwarded', 'x-real-ip', 'via', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port',
  'x-forwarded-server', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip', 'x-cluster-client-ip', 'fastly-client-ip'
] as const

function isProxied (request: FastifyRequest): boolean {
  const h = request.headers
  return PROXY_HEADERS.some((name) => h[name] !== undefined)
}

export default fp(adminAuth, { name: 'admin-auth', encapsulate: false })

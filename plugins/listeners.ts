import fp from 'fastify-plugin'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { answerClientError, noRoute } from '../src/http-errors.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts the admin API's own listener (ADR 14); resolves with its base URL. Closed with the app. */
    listenAdmin: (address: { host: string, port: number }) => Promise<string>
    /**
     * Whether the listener `raw` came through serves `route` (a route's URL, or the raw path when no
     * route matched): false answers 404, as if the route did not exist there. In-process requests: true.
     */
    listenerServes: (raw: IncomingMessage, route: string | undefined) => boolean
  }
}

type Side = 'public' | 'admin'

/**
 * Two listeners, one router (ADR 14). The public listener (`server.host`/`server.port`, the one a
 * reverse proxy points at) serves `/health`, `/hooks/…` and the Telegram webhook; every `/api` route
 * answers 404 there, as if it did not exist. The admin listener (`admin.host`/`admin.port`, loopback
 * by default) serves `/api` and `/health` only. Which listener a request came through is read from
 * the connection that carried it, never from anything the client sends, so no header and no proxy
 * in front of the public port can reach the admin API. Requests made in-process (`app.inject`, the
 * tests) have no listener and reach every route.
 */
async function listeners (app: FastifyInstance): Promise<void> {
  const sides = new WeakMap<Socket, Side>()
  app.server.on('connection', (socket: Socket) => { sides.set(socket, 'public') })
  let admin: Server | null = null

  const serves = (raw: IncomingMessage, route: string | undefined): boolean => {
    const side = sides.get(raw.socket)
    if (side === undefined) return true
    const isApi = route !== undefined && (route === '/api' || route.startsWith('/api/'))
    return side === 'public' ? !isApi : isApi || route === '/health'
  }
  app.decorate('listenerServes', serves)

  // A callback hook, not an async one: no promise per request on the hot path (ADR 0048).
  app.addHook('onRequest', (request, reply, done) => {
    // The matched route, not the raw URL: no encoding or duplicate slash can make one look like another.
    if (serves(request.raw, request.routeOptions.url)) {
      done()
      return
    }
    reply.code(404).send(noRoute(request.method, request.url))
  })

  app.decorate('listenAdmin', async ({ host, port }: { host: string, port: number }): Promise<string> => {
    if (admin !== null) throw new Error('the admin listener is already started')
    await app.ready()
    const server = admin = createServer((req, res) => { app.routing(req, res) })
    server.on('connection', (socket: Socket) => { sides.set(socket, 'admin') })
    server.on('clientError', answerClientError)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    const bound = typeof address === 'object' && address !== null ? address.port : port
    const clientHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
    return `http://${clientHost.includes(':') ? `[${clientHost}]` : clientHost}:${bound}`
  })

  app.addHook('preClose', async () => { admin?.closeIdleConnections() })
  app.addHook('onClose', async () => {
    const server = admin
    if (server === null || !server.listening) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  })
}

export default fp(listeners, { name: 'listeners' })

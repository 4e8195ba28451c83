// The plumbing both fake model APIs share: a node:http server on 127.0.0.1 (port 0) that records
// every request, refuses WebSocket upgrades, writes SSE, and on close() cuts every open stream.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RecordedRequest {
  method: string
  /** The path without the query string (Claude posts to `/v1/messages?beta=true`). */
  path: string
  /** The query string with its `?`, or ''. */
  query: string
  headers: Record<string, string | string[] | undefined>
  /** The raw request body ('' for none). */
  raw: string
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown
  /** The status the fake answered with (set when the answer starts). */
  status?: number
  /** True for a refused WebSocket upgrade. */
  upgrade?: boolean
}

export type Handler = (req: RecordedRequest, res: ServerResponse, signal: AbortSignal) => Promise<void>

export interface RecordingServer {
  /** `http://127.0.0.1:<port>` */
  url: string
  port: number
  /** Every request in arrival order, including HEAD probes and refused upgrades. */
  requests: RecordedRequest[]
  /** Errors thrown while answering (a broken script): the request got a 500 with the message. */
  failures: Error[]
  /** Cuts open streams and stops listening; safe to call twice. */
  close: () => Promise<void>
}

export async function startRecordingServer (handle: Handler): Promise<RecordingServer> {
  const requests: RecordedRequest[] = []
  const failures: Error[] = []
  const closing = new AbortController()

  const server = createServer(async (req, res) => {
    try {
      const recorded = record(req, await readBody(req))
      // The status as sent, readable as soon as the headers are out (also for a stream still running).
      Object.defineProperty(recorded, 'status', { enumerable: true, get: () => res.headersSent ? res.statusCode : undefined })
      requests.push(recorded)
      await handle(recorded, res, closing.signal)
    } catch (err) {
      if (closing.signal.aborted || res.destroyed) return
      const error = err instanceof Error ? err : new Error(String(err))
      failures.push(error)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`fake server failure: ${error.message}`)
    }
  })
  server.on('upgrade', (req: IncomingMessage, socket) => {
    requests.push({ ...record(req, ''), status: 404, upgrade: true })
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as AddressInfo).port
  let closed = Promise.resolve()

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    failures,
    close () {
      if (!closing.signal.aborted) {
        closing.abort()
        closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeAllConnections()
      }
      return closed
    }
  }
}

function record (req: IncomingMessage, raw: string): RecordedRequest {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  let body: unknown
  try { body = raw === '' ? undefined : JSON.parse(raw) } catch { body = undefined }
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q),
    headers: { ...req.headers },
    raw,
    body
  }
}

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** An SSE writer: `event: <type>` + `data: <json>`. A pause ends early (throwing) when the server closes or the client goes. */
export function sseStream (res: ServerResponse, signal: AbortSignal, headers: Record<string, string> = {}): {
  send: (type: string, data: Record<string, unknown>) => void
  pause: (ms: number) => Promise<void>
  end: () => void
} {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers })
  const gone = new AbortController()
  res.once('close', () => gone.abort())
  const stop = AbortSignal.any([signal, gone.signal])
  return {
    send (type, data) {
      if (!res.destroyed) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
    },
    async pause (ms) {
      if (ms > 0) await sleep(ms, undefined, { signal: stop })
    },
    end () { res.end() }
  }
}

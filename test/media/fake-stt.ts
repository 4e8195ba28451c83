import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SttRequest {
  authorization: string | undefined
  model: string | null
  fileName: string | null
  fileBytes: number
  /** The first bytes of the uploaded file (to check it is the real audio). */
  fileHead: Buffer
}

/**
 * A fake OpenAI-compatible speech-to-text API: POST /v1/audio/transcriptions with a multipart form
 * (file, model, response_format), answered `{ "text": … }`. It checks the bearer key like the real
 * one (401 with an OpenAI-shaped error) and records each request.
 */
export async function startFakeStt (opts: { key?: string, text: (req: SttRequest) => string }): Promise<{ url: string, requests: SttRequest[], close: () => Promise<void> }> {
  const requests: SttRequest[] = []
  const server = createServer((req, res) => {
    (async () => {
      const body = await readAll(req)
      if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }))
        return
      }
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body }).formData()
      const file = form.get('file')
      const bytes = file instanceof Blob ? Buffer.from(await file.arrayBuffer()) : Buffer.alloc(0)
      const r: SttRequest = {
        authorization: req.headers.authorization,
        model: typeof form.get('model') === 'string' ? form.get('model') as string : null,
        fileName: file instanceof File ? file.name : null,
        fileBytes: bytes.length,
        fileHead: bytes.subarray(0, 4)
      }
      requests.push(r)
      if (opts.key !== undefined && req.headers.authorization !== `Bearer ${opts.key}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }))
        return
      }
      if (bytes.length === 0) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no file' } }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: opts.text(r) }))
    })().catch(() => { res.writeHead(500).end() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

async function readAll (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

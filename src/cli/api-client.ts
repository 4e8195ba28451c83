import { readFile } from 'node:fs/promises'
import { resolvePaths } from '../home/paths.ts'
import { readServiceInfo } from '../home/service-info.ts'

/** A failure of an admin API call, carrying the server's own message (printed as `ductor: <message>`). */
export class ApiError extends Error {
  readonly status: number

  constructor (status: number, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

export interface ApiClient {
  url: string
  request: <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>
  /** POSTs and reads a text/event-stream answer, calling `onEvent` per event; resolves at the end. */
  stream: (path: string, body: unknown, onEvent: (event: string, data: unknown) => void) => Promise<void>
}

/**
 * Finds the admin API: `DUCTOR_API_URL` / `DUCTOR_API_TOKEN` (set for the agent's own runs), else the
 * running service's admin listener (`admin_url` in `state/service.json`) and `admin.token` from the home's config.
 */
export async function connectApi (env: NodeJS.ProcessEnv): Promise<ApiClient> {
  const paths = resolvePaths(env)
  const home = paths.home
  let url = env['DUCTOR_API_URL'] ?? ''
  let token = env['DUCTOR_API_TOKEN'] ?? ''
  if (url === '') {
    const info = await readServiceInfo(paths.state)
    if (info === null) throw new ApiError(0, `the ductor service is not running (home ${home}); start it with: ductor serve`)
    if (info.admin_url === null) throw new ApiError(0, `the admin API is switched off (admin.enabled is false in ${paths.config})`)
    url = info.admin_url ?? info.url
  }
  if (token === '') {
    const config = await readFile(paths.config, 'utf8').then((t) => JSON.parse(t) as { admin?: { token?: string } }).catch(() => null)
    token = env['DUCTOR_ADMIN_TOKEN'] ?? config?.admin?.token ?? ''
    if (token === '') throw new ApiError(0, `no admin token: set DUCTOR_API_TOKEN, or check admin.token in ${paths.config}`)
  }
  return createApiClient(url.replace(/\/+$/, ''), token)
}

function createApiClient (url: string, token: string): ApiClient {
  const call = async (method: string, path: string, body: unknown, accept = 'application/json'): Promise<Response> => {
    let res: Response
    try {
      res = await fetch(`${url}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
    } catch (err) {
      throw new ApiError(0, `cannot reach the ductor service at ${url} (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); is it running? (ductor status)`)
    }
    if (!res.ok) {
      const text = await res.text()
      let message = text
      try { message = (JSON.parse(text) as { message?: string }).message ?? text } catch {}
      throw new ApiError(res.status, forTheCli(message || `HTTP ${res.status}`))
    }
    return res
  }
  return {
    url,
    async request<T> (method: string, path: string, body?: unknown): Promise<T> {
      const res = await call(method, path, body)
      return await res.json() as T
    },
    async stream (path, body, onEvent) {
      const res = await call('POST', path, body, 'text/event-stream')
      const decoder = new TextDecoder()
      let buffer = ''
      for await (const chunk of res.body ?? []) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (data !== undefined) onEvent(event, JSON.parse(data))
        }
      }
    }
  }
}

/** Admin API routes named in server messages, and what a CLI user types instead. */
const CLI_EQUIVALENTS: Array<[RegExp, string]> = [
  [/PATCH \/api\/webhooks\/(\S+) \{"hmac_secret": "<new secret>"\}/g, 'ductor webhook edit $1 --secret <new secret>'],
  [/GET \/api\/cron\b/g, 'ductor cron list'],
  [/GET \/api\/webhooks\b/g, 'ductor webhook list'],
  [/GET \/api\/runs\b/g, 'ductor runs'],
  [/GET \/api\/sessions\b/g, 'ductor sessions'],
  [/PATCH \/api\/config\b/g, 'PATCH /api/config (or ductor init for the basics)'],
  [/GET \/api\/status\b/g, 'ductor status']
]

/**
 * A server message as a CLI user should read it: routes replaced by the commands that do the same,
 * a query parameter named as the option (`kind in the query string` → `--kind`; an older service's
 * `querystring/kind` too).
 */
function forTheCli (message: string): string {
  let text = message
  for (const [route, command] of CLI_EQUIVALENTS) text = text.replace(route, command)
  const option = (_m: string, name: string): string => `--${name.replace(/_/g, '-')}`
  return text.replace(/\b([a-z_]+) in the query string\b/g, option).replace(/\bquerystring\/([a-z_]+)/g, option)
}

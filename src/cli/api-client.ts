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
  /** POSTs and reads a text/event-stream answer, calling `onEvent` per event; resolves after its `result` (or `error`) event, rejects when the stream ends before one (the service went away). */
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
      let ended = false
      try {
        for await (const chunk of res.body ?? []) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true })
          let end: number
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (data === undefined) continue
            // The stream ends with `result`, or with `error` when there is no run to report.
            if (event === 'result' || event === 'error') ended = true
            onEvent(event, JSON.parse(data))
          }
        }
      } catch (err) {
        // fetch says only "terminated" when the service went away mid-stream (a crash, a kill -9).
        throw new ApiError(0, lostStream(url, (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message))
      }
      if (!ended) throw new ApiError(0, lostStream(url, 'the stream ended without a result'))
    }
  }
}

function lostStream (url: string, why: string): string {
  return `the connection to the ductor service at ${url} was lost before the reply was complete (${why}): the service stopped or crashed. Check it with \`ductor status\`, then send the message again`
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

const kebab = (option: string): string => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/**
 * A message of the service as a CLI user reads it: the API fields it names become the options that
 * set them (`title in the body must not be empty`, or `body/title …` from route code, → `--title must
 * not be empty`; `hmac_secret is required
 * when auth_mode is "hmac"` → `--secret is required when --auth is "hmac"`). A snake_case field is
 * renamed wherever it stands as a word (not a config key such as `cron.quiet_start`); a one-word
 * field (`title`, `mode`) only where it is the subject: at the start of a clause or after "when".
 */
export function namedAsOptions (message: string, fields: Record<string, string>): string {
  const option = new Map(Object.entries(fields).map(([name, field]) => [field, kebab(name)]))
  const rename = (field: string, otherwise: string): string => option.get(field) ?? otherwise
  return message
    .replace(/(?<![\w.])([a-z_]+)(?:\[\d+\])? in the body\b/g, (whole, field: string) => rename(field, whole))
    .replace(/\bbody\/([a-z_]+)(?:\/\d+)?/g, (whole, field: string) => rename(field, whole))
    .replace(/(?<![\w./-])([a-z]+(?:_[a-z]+)+)\b(?![.\w])/g, (whole, field: string) => rename(field, whole))
    .replace(/(^|: |; |\bwhen )([a-z]+)(?= (?:must|is|cannot|"))/g, (whole, before: string, field: string) => option.has(field) ? before + rename(field, field) : whole)
    // `set "provider": "codex"` → `set --provider codex`.
    .replace(/"([a-z_]+)": "([^"]*)"/g, (whole, field: string, value: string) => option.has(field) ? `${rename(field, field)} ${value}` : whole)
    // JSON's null is the CLI's "none".
    .replace(/\bor null\b/g, 'or "none"')
}

/** Runs `call`; an API error is thrown again with the fields it names as options. */
export async function asOptions<T> (fields: Record<string, string>, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.status, namedAsOptions(err.message, fields))
    throw err
  }
}

import { Command } from 'commander'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { asOptions, connectApi, ApiError, type ApiClient } from './api-client.ts'
import { table, printJson, userZone, localTime, formatUsd } from './output.ts'
import { details } from './flags.ts'
import type { CliIo } from './io.ts'

interface Run { id: string, kind: string, ref: string | null, chat_id: string | number | null, status: string, started_at: string, ended_at: string | null, cost_usd: number | null, tokens: number | null }

/** A run as `GET /api/runs/:id` answers it: the record plus its reply. */
export interface RunDetail extends Run { provider: string | null, model: string | null, error: string | null, reply: string | null }

/** One run in words, then its reply (or its error text): what `runs show` and `cron run --wait` print. */
export function describeRun (run: RunDetail, zone: string): string {
  const at = (iso: string | null): string | null => iso === null ? null : `${localTime(iso, zone) ?? iso} (${zone})`
  const head = details([
    ['run', run.id],
    ['kind', `${run.kind}${run.ref === null ? '' : ` ${run.ref}`}${run.chat_id === null ? '' : ` (chat ${String(run.chat_id)})`}`],
    ['status', run.status],
    ['provider', [run.provider, run.model].filter((v) => v !== null).join(' ') || null],
    ['started', at(run.started_at)],
    ['ended', at(run.ended_at)],
    ['cost $', formatUsd(run.cost_usd)],
    ['tokens', run.tokens],
    ['error', run.error]
  ])
  if (run.reply === null) return head + (run.status === 'running' ? '(still running: no reply yet)\n' : '(no reply)\n')
  return `${head}\n${run.reply}${run.reply.endsWith('\n') ? '' : '\n'}`
}

/** The run ids `GET /api/runs/:id` takes; any other (".", "..", "") names no run. */
const RUN_ID = /^[A-Za-z0-9_-]{1,100}$/
/** `ductor chat`'s options by the fields they send: the service's messages name the options. */
const CHAT_FIELDS = { model: 'model' }
/** Chat ids `/api/chats/:chatId` takes. */
const CHAT_ID = /^-?[A-Za-z0-9_]{1,64}$/

/** `GET /api/runs/:id`, or null while the run has no record yet (a cron run waiting for its dependency). */
export async function fetchRun (api: ApiClient, id: string): Promise<RunDetail | null> {
  if (!RUN_ID.test(id)) return null
  try {
    return await api.request<RunDetail>('GET', `/runs/${encodeURIComponent(id)}`)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
}

/** `ductor runs [--active]`: the run history; `ductor runs show <id>`: one run with its reply. */
export function runsCommand (io: CliIo): Command {
  const runs = new Command('runs')
  runs.command('show')
    .description('one run in detail, with its reply or error text')
    .argument('<id>', 'the run\'s id (the last column of ductor runs)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const api = await connectApi(io.env)
      const run = await fetchRun(api, id)
      if (run === null) throw new Error(`no run ${id}; list the runs with: ductor runs`)
      if (opts.json === true) return printJson(io, run)
      io.stdout.write(describeRun(run, await userZone(io, api)))
    })
  return runs
    .description('show the run history (chat, cron, webhook, heartbeat runs)')
    .option('--active', 'only runs in progress')
    .option('--kind <kind>', 'chat, cron, webhook or heartbeat')
    .option('--status <status>', 'e.g. success, error, skipped:quiet_hours')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (opts: { active?: boolean, kind?: string, status?: string, limit: string, json?: boolean }) => {
      const api = await connectApi(io.env)
      const query = new URLSearchParams({ limit: opts.limit })
      if (opts.kind !== undefined) query.set('kind', opts.kind)
      if (opts.status !== undefined) query.set('status', opts.status)
      const { runs } = await api.request<{ runs: Run[] }>('GET', opts.active === true ? '/runs/active' : `/runs?${query.toString()}`)
      if (opts.json === true) return printJson(io, runs)
      const zone = await userZone(io, api)
      const rows = runs.map((r) => ({ ...r, started: localTime(r.started_at, zone), cost: formatUsd(r.cost_usd) }))
      io.stdout.write(table(rows, [['started', `started (${zone})`], ['kind', 'kind'], ['ref', 'ref'], ['chat_id', 'chat'], ['status', 'status'], ['cost', 'cost $'], ['tokens', 'tokens'], ['id', 'id']]))
    })
}

/** `ductor sessions`: every chat's session. */
export function sessionsCommand (io: CliIo): Command {
  return new Command('sessions')
    .description('list the chats\' sessions')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const api = await connectApi(io.env)
      const { sessions } = await api.request<{ sessions: Array<Record<string, unknown> & { provider_sessions: Record<string, { session_id: string, message_count: number, total_cost_usd: number }> }> }>('GET', '/sessions')
      if (opts.json === true) return printJson(io, sessions)
      const zone = await userZone(io, api)
      const rows = sessions.map((s) => {
        const bucket = s.provider_sessions[String(s['provider'])]
        return { ...s, session: bucket?.session_id ?? '', messages: bucket?.message_count ?? 0, cost: formatUsd(bucket?.total_cost_usd ?? 0), last: localTime(s['last_active'] as string | null, zone) }
      })
      io.stdout.write(table(rows, [['chat_id', 'chat'], ['provider', 'provider'], ['model', 'model'], ['messages', 'messages'], ['cost', 'cost $'], ['last', `last active (${zone})`], ['session', 'session']]))
    })
}

/** `ductor memory [show|edit]`: read or edit MAINMEMORY.md through the service. */
export function memoryCommand (io: CliIo): Command {
  const memory = new Command('memory').description('show or edit the long-term memory (MAINMEMORY.md)')
  memory.command('show', { isDefault: true })
    .description('print the memory')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const api = await connectApi(io.env)
      const body = await api.request<{ content: string, bytes: number }>('GET', '/memory')
      if (opts.json === true) return printJson(io, body)
      io.stdout.write(body.content.endsWith('\n') || body.content === '' ? body.content : body.content + '\n')
    })
  memory.command('edit')
    .description('edit the memory in $EDITOR (or replace it with --file)')
    .option('--file <path>', 'replace the memory with this file\'s content')
    .action(async (opts: { file?: string }) => {
      const api = await connectApi(io.env)
      let content: string
      if (opts.file !== undefined) {
        const file = opts.file
        content = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'a folder, not a file' : err.code === 'EACCES' ? 'not readable (permission denied)' : err.message
          throw new Error(`--file ${file}: ${why}; the memory was not changed`)
        })
      } else {
        const { content: current } = await api.request<{ content: string }>('GET', '/memory')
        const dir = await mkdtemp(join(tmpdir(), 'ductor-memory-'))
        const path = join(dir, 'MAINMEMORY.md')
        await writeFile(path, current)
        const editor = io.env['VISUAL'] ?? io.env['EDITOR'] ?? 'vi'
        const result = spawnSync(editor, [path], { stdio: 'inherit', shell: process.platform === 'win32' })
        content = await readFile(path, 'utf8')
        await rm(dir, { recursive: true, force: true })
        if (result.status !== 0) throw new Error(`${editor} exited with ${String(result.status)}; memory not changed`)
        if (content === current) {
          io.stdout.write('No changes.\n')
          return
        }
      }
      const saved = await api.request<{ bytes: number }>('PUT', '/memory', { content })
      io.stdout.write(`Memory saved (${saved.bytes} bytes).\n`)
    })
  return memory
}

interface PendingApproval { id: string, tool: string, title: string, detail: string, expires_at: string }

const ANSWERS: Record<string, string> = { a: 'allow', A: 'always', d: 'deny', s: 'stop' }
const prompts = new Map<string, () => void>()

function closePrompt (id: string): void {
  prompts.get(id)?.()
  prompts.delete(id)
}

/**
 * A tool request of the run (permission_mode "ask", docs/approvals.md): shown on stderr; in a
 * terminal the user answers it here, otherwise in Telegram or with POST /api/approvals/:id.
 */
function askInTerminal (io: CliIo, api: ApiClient, request: PendingApproval): void {
  io.stderr.write(`\n[approval] ${request.title} (${request.tool}):\n${request.detail}\n`)
  if (io.stdin.isTTY !== true) {
    io.stderr.write(`[approval] answer in Telegram or: POST /api/approvals/${request.id} {"action":"allow"|"always"|"deny"|"stop"}\n`)
    return
  }
  const lines = createInterface({ input: io.stdin, output: process.stderr })
  prompts.set(request.id, () => { lines.close() })
  lines.question('Allow once [a], always allow this [A], deny [d], deny and stop [s]? ', (answer) => {
    lines.close()
    prompts.delete(request.id)
    const action = ANSWERS[answer.trim()] ?? 'deny'
    api.request('POST', `/approvals/${request.id}`, { action })
      .catch((err: unknown) => { io.stderr.write(`[approval] ${err instanceof Error ? err.message : String(err)}\n`) })
  })
}

/** `ductor chat <text>`: sends a message through the service and streams the reply. */
export function chatCommand (io: CliIo): Command {
  return new Command('chat')
    .description('send a message to the assistant and stream the reply')
    .argument('<text...>', 'the message')
    .option('--chat <id>', 'chat id (default: DUCTOR_CHAT_ID, else "cli")')
    .option('--model <name>', 'run this message with another model')
    .option('--json', 'wait and print the result as JSON')
    .action(async (words: string[], opts: { chat?: string, model?: string, json?: boolean }) => {
      const chatId = opts.chat ?? io.env['DUCTOR_CHAT_ID'] ?? 'cli'
      if (!CHAT_ID.test(chatId)) {
        throw new Error(`${opts.chat !== undefined ? '--chat' : 'DUCTOR_CHAT_ID'} "${chatId}" is not a chat id: use a Telegram chat id (e.g. 123456789 or -100123…) or a short name of letters, digits and _ (at most 64)`)
      }
      const api = await connectApi(io.env)
      const body = { text: words.join(' '), ...(opts.model !== undefined ? { model: opts.model } : {}) }
      const path = `/chats/${encodeURIComponent(chatId)}/messages`
      if (opts.json === true) return printJson(io, await asOptions(CHAT_FIELDS, async () => await api.request('POST', path, body)))
      let streamed = false
      let failed = false
      const streaming = asOptions(CHAT_FIELDS, async () => await api.stream(path, body, (event, data) => {
        const d = data as { text?: string, name?: string, summary?: string, status?: string, reply?: string, message?: string }
        if (event === 'text' && d.text !== undefined) {
          streamed = true
          io.stdout.write(d.text)
        } else if (event === 'tool') {
          io.stderr.write(`[${d.name ?? 'tool'}] ${d.summary ?? ''}\n`)
        } else if (event === 'approval') {
          askInTerminal(io, api, data as PendingApproval)
        } else if (event === 'approval_settled') {
          const settled = data as { id: string, outcome: string }
          io.stderr.write(`[approval] ${settled.outcome}\n`)
          closePrompt(settled.id)
        } else if (event === 'error') {
          failed = true
          io.stderr.write(`ductor: ${d.message ?? 'the run failed'}\n`)
        } else if (event === 'result') {
          if (!streamed && d.reply !== undefined && d.status === 'success') io.stdout.write(d.reply)
          io.stdout.write('\n')
          if (d.status !== 'success') failed = true
        }
      }))
      // A reply cut off by the service's end keeps what was shown on its own line, before the reason.
      await streaming.catch((err: unknown) => { if (streamed) io.stdout.write('\n'); throw err })
      if (failed) io.exitCode = 1
    })
}

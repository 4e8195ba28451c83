#!/usr/bin/env node
// ductor's permission-prompt tool for Claude Code (docs/approvals.md, ADR 0027).
//
// Claude Code starts this as a stdio MCP server (`--mcp-config`) and, in print mode with
// `--permission-prompt-tool mcp__ductor__approve`, calls its one tool whenever its own rules would ask
// in a terminal. The tool forwards the request to the ductor service (the admin API on localhost:
// `DUCTOR_API_URL`, `DUCTOR_API_TOKEN`, and `DUCTOR_APPROVAL_RUN`, the run's own token), waits for
// the user's answer, and returns it as Claude expects: JSON text
// `{"behavior":"allow","updatedInput":{…}}` or `{"behavior":"deny","message":"…"}`.
//
// Plain Node, no dependencies: the MCP surface Claude uses here is four JSON-RPC methods over
// newline-delimited stdin/stdout. Anything that goes wrong denies: a tool request never runs because
// the service could not be asked.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createInterface } from 'node:readline'

const TOOL = 'approve'
const PROTOCOL = '2025-06-18'

function send (message) {
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n')
}

/** POST the request to the service and wait (no client timeout: the service's own timeout denies). */
function ask (args) {
  const base = process.env.DUCTOR_API_URL
  const token = process.env.DUCTOR_API_TOKEN
  const run = process.env.DUCTOR_APPROVAL_RUN
  if (!base || !token || !run) return Promise.resolve({ behavior: 'deny', message: 'ductor could not ask the user (no service address in the environment), so this was denied.' })
  const url = new URL('/api/approvals/ask', base)
  const body = JSON.stringify({ run_token: run, tool_name: args.tool_name, input: args.input ?? {}, tool_use_id: args.tool_use_id ?? null })
  return new Promise((resolve) => {
    const deny = (why) => resolve({ behavior: 'deny', message: `ductor could not ask the user (${why}), so this was denied.` })
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk) => { text += chunk })
      res.on('end', () => {
        try {
          const answer = JSON.parse(text)
          if (res.statusCode === 200 && (answer.behavior === 'allow' || answer.behavior === 'deny')) resolve(answer)
          else deny(`HTTP ${res.statusCode}: ${answer.message ?? answer.error ?? 'unexpected answer'}`)
        } catch { deny(`HTTP ${res.statusCode}`) }
      })
      res.on('error', (err) => deny(err.message))
    })
    req.on('error', (err) => deny(err.message))
    req.end(body)
  })
}

async function handle (message) {
  const { id, method, params } = message
  if (id === undefined || id === null) return // a notification (initialized, cancelled): nothing to answer
  if (method === 'initialize') {
    send({ id, result: { protocolVersion: params?.protocolVersion ?? PROTOCOL, capabilities: { tools: {} }, serverInfo: { name: 'ductor', version: '1' } } })
  } else if (method === 'ping') {
    send({ id, result: {} })
  } else if (method === 'tools/list') {
    send({
      id,
      result: {
        tools: [{
          name: TOOL,
          description: 'Asks the ductor user (Telegram or the admin API) whether a tool may run.',
          inputSchema: {
            type: 'object',
            properties: { tool_name: { type: 'string' }, input: { type: 'object' }, tool_use_id: { type: 'string' } },
            required: ['tool_name', 'input']
          }
        }]
      }
    })
  } else if (method === 'tools/call') {
    if (params?.name !== TOOL) {
      send({ id, error: { code: -32602, message: `unknown tool ${params?.name}` } })
      return
    }
    const args = params.arguments ?? {}
    const answer = await ask(args)
    const result = answer.behavior === 'allow'
      ? { behavior: 'allow', updatedInput: answer.updatedInput ?? args.input ?? {} }
      : { behavior: 'deny', message: String(answer.message ?? 'Denied.'), ...(answer.interrupt === true ? { interrupt: true } : {}) }
    send({ id, result: { content: [{ type: 'text', text: JSON.stringify(result) }] } })
  } else {
    send({ id, error: { code: -32601, message: `method not found: ${method}` } })
  }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line.trim() === '') return
  let message
  try { message = JSON.parse(line) } catch { return }
  handle(message).catch((err) => {
    if (message.id !== undefined) send({ id: message.id, error: { code: -32603, message: String(err?.message ?? err) } })
  })
})
lines.on('close', () => process.exit(0))

#!/usr/bin/env node
// A fake `claude` for tests: checks its argv like the real CLI 2.1.197 does, then replays a
// fixture transcript or a synthetic reply in the real stream-json schema (fixtures NOTES §2).
import { randomUUID } from 'node:crypto'
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FIXTURES, play, readOptions, readTranscript, runPromptTools } from './fake-cli-core.mjs'

const args = process.argv.slice(2)
const dashes = args.indexOf('--')
const flags = dashes === -1 ? args : args.slice(0, dashes)
const prompt = dashes === -1 ? '' : args.slice(dashes + 1).join(' ')
const valueOf = (name) => {
  const i = flags.indexOf(name)
  return i === -1 ? undefined : flags[i + 1]
}

function refuse (message) {
  process.stderr.write(message + '\n')
  process.exit(1)
}

if (!flags.includes('-p')) refuse('fake claude: only -p (print mode) is supported')
if (valueOf('--output-format') === 'stream-json' && !flags.includes('--verbose')) {
  refuse('Error: When using --print, --output-format=stream-json requires --verbose')
}
const permissionMode = valueOf('--permission-mode') ?? 'default'
if (permissionMode === 'bypassPermissions' && process.getuid?.() === 0 &&
    process.env.IS_SANDBOX !== '1' && process.env.CLAUDE_CODE_BUBBLEWRAP === undefined) {
  refuse('--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons')
}

const options = readOptions(prompt)
const resumeId = valueOf('--resume')
const sessionId = resumeId ?? randomUUID()
const partial = flags.includes('--include-partial-messages')
const model = valueOf('--model') ?? 'sonnet'
const reply = options.reply ?? (options.runTools ? runPromptTools(prompt) : null) ?? `echo: ${prompt}`

function line (type, fields) {
  return JSON.stringify({ type, ...fields, session_id: sessionId, uuid: randomUUID() })
}

function streamEvent (event) {
  return line('stream_event', { event, parent_tool_use_id: null })
}

function synthetic () {
  const messageId = 'msg_fake_' + randomUUID().slice(0, 8)
  const usage = { input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }
  const outputTokens = Math.max(1, Math.ceil(reply.length / 4))
  const lines = [line('system', { subtype: 'init', cwd: process.cwd(), model, permissionMode, tools: ['Bash'] })]
  if (partial) {
    lines.push(
      line('system', { subtype: 'status', status: 'requesting' }),
      streamEvent({ type: 'message_start', message: { id: messageId, type: 'message', role: 'assistant', model, content: [], usage } }),
      streamEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
    )
    const size = Math.max(1, Math.ceil(reply.length / 3))
    for (let i = 0; i < reply.length; i += size) {
      lines.push(streamEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply.slice(i, i + size) } }))
    }
  }
  lines.push(line('assistant', {
    message: { id: messageId, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: reply }], stop_reason: null, usage },
    parent_tool_use_id: null
  }))
  if (partial) {
    lines.push(
      streamEvent({ type: 'content_block_stop', index: 0 }),
      streamEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: outputTokens } }),
      streamEvent({ type: 'message_stop' })
    )
  }
  lines.push(line('result', {
    subtype: 'success',
    is_error: false,
    api_error_status: null,
    duration_ms: 42,
    num_turns: 1,
    result: reply,
    stop_reason: 'end_turn',
    total_cost_usd: 0.0015,
    usage: { ...usage, output_tokens: outputTokens }
  }))
  return lines
}

/** A fixture, with its session id replaced by the one being resumed. */
function replay (name) {
  return readTranscript(name).map((text) => {
    if (resumeId === undefined) return text
    try {
      const value = JSON.parse(text)
      if (typeof value.session_id === 'string') value.session_id = resumeId
      return JSON.stringify(value)
    } catch {
      return text
    }
  })
}

// Filler for [[big]]: text deltas of about 1 KB each, as a long streamed reply would send.
const filler = 'lorem ipsum dolor sit amet '.repeat(38)
const bigLine = () => streamEvent({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: filler } })

/**
 * `[[ask:bash]]`: the agent wants the tool request of `claude-permission-bash-allow.asks.json` (a
 * command that writes `approved.txt`), and the fake does what the real claude 2.1.197 does with it
 * (test/fixtures/cli/APPROVALS.md): under `bypassPermissions` it runs; under `default` with
 * `--permission-prompt-tool mcp__<server>__<tool>` it starts that server from `--mcp-config` (ductor's
 * real bin/ductor-approval-mcp.mjs) and calls the tool over stdio; without a prompt tool print mode
 * denies. Allowed: the command runs in the cwd (`sh -c`) and the allow transcript plays; denied: the
 * deny transcript, with the deny message the tool gave; denied with `interrupt`: the interrupt
 * transcript and exit 1.
 */
async function askFlow (name) {
  const base = `claude-permission-${name}`
  const [{ body }] = JSON.parse(readFileSync(join(FIXTURES, `${base}-allow.asks.json`), 'utf8'))
  const request = { tool_name: body.tool_name, input: body.input, tool_use_id: body.tool_use_id }
  let decision
  if (permissionMode === 'bypassPermissions') decision = { behavior: 'allow', updatedInput: request.input }
  else if (valueOf('--permission-prompt-tool') === undefined) decision = { behavior: 'deny', message: `Claude requested permissions to use ${request.tool_name}, but you haven't granted it yet.` }
  else decision = await callPromptTool(valueOf('--permission-prompt-tool'), JSON.parse(valueOf('--mcp-config')), request)
  if (decision.behavior === 'allow') {
    if (request.tool_name === 'Bash') spawnSync('sh', ['-c', decision.updatedInput.command], { stdio: 'ignore' })
    return { lines: replay(`${base}-allow.jsonl`) }
  }
  if (decision.interrupt === true) return { lines: replay(`${base}-deny-interrupt.jsonl`), exitCode: 1 }
  const quoted = JSON.stringify(decision.message).slice(1, -1)
  return { lines: replay(`${base}-deny.jsonl`).map((l) => l.replaceAll('The user denied this in Telegram.', quoted)) }
}

/** One `tools/call` to the permission-prompt tool's MCP server, as Claude makes it. */
async function callPromptTool (toolName, mcpConfig, request) {
  const [, server, tool] = toolName.split('__')
  const spec = mcpConfig.mcpServers[server]
  const child = spawn(spec.command, spec.args ?? [], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env })
  const pending = new Map()
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line)
    pending.get(message.id)?.(message)
  })
  let next = 0
  const call = (method, params) => new Promise((resolve) => {
    const id = ++next
    pending.set(id, resolve)
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n')
  })
  await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fake-claude', version: '0' } })
  child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n')
  const answer = await call('tools/call', { name: tool, arguments: request })
  child.stdin.end()
  return JSON.parse(answer.result.content[0].text)
}

if (options.ask !== undefined) {
  const { lines, exitCode } = await askFlow(options.ask)
  await play(lines, exitCode === undefined ? options : { ...options, exitCode }, bigLine)
} else {
  await play(options.transcript === undefined ? synthetic() : replay(options.transcript), options, bigLine)
}

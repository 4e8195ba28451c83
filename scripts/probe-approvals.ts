// Captures Claude Code's print-mode permission delegation against the fake model API (issue 21).
// Run: npx tsx scripts/probe-approvals.ts <out-dir>. Writes claude-permission-*.jsonl (+ .stderr.txt,
// + .asks.json: what ductor's approval endpoint received) for allow, deny and a Write.
import { createServer } from 'node:http'
import { mkdir, writeFile, readFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { prepareClaudeEnv } from '../test/e2e-support/real-cli-env.ts'
import { runRealCli } from '../test/e2e-support/run-real-cli.ts'

const out = process.argv[2] ?? '/tmp/i21/probe'
await mkdir(out, { recursive: true })
const mcpScript = new URL('../bin/ductor-approval-mcp.mjs', import.meta.url).pathname

async function probe (name: string, decide: (ask: Record<string, unknown>) => Record<string, unknown>, tool: { name?: string, command: string, input?: Record<string, unknown> }, mode = 'default', extra: string[] = []): Promise<void> {
  const asks: unknown[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      const ask = JSON.parse(body)
      asks.push({ url: req.url, auth: req.headers.authorization, body: ask })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(decide(ask)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  let cwd = ''
  const fill = (input: Record<string, unknown> | undefined): Record<string, unknown> | undefined => input === undefined ? undefined : JSON.parse(JSON.stringify(input).replaceAll('CWD', cwd))
  const cli = await prepareClaudeEnv({ reply: (call) => call.toolResult !== undefined ? `The tool said: ${call.toolResult}` : { kind: 'tool', text: 'I will use a tool.', ...tool, input: fill(tool.input) } })
  cwd = cli.cwd
  const env = { ...cli.env, DUCTOR_API_URL: `http://127.0.0.1:${port}`, DUCTOR_API_TOKEN: 'admin-token', DUCTOR_APPROVAL_RUN: 'run-token' }
  delete (env as Record<string, string>).IS_SANDBOX
  const mcp = JSON.stringify({ mcpServers: { ductor: { command: process.execPath, args: [mcpScript] } } })
  const args = ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', mode, '--mcp-config', mcp, '--strict-mcp-config', '--permission-prompt-tool', 'mcp__ductor__approve', ...extra, '--model', 'sonnet', '--', 'do it']
  const run = await runRealCli({ ...cli, env }, args, { timeoutMs: 60_000 })
  await writeFile(join(out, `${name}.jsonl`), run.stdout)
  await writeFile(join(out, `${name}.jsonl.stderr.txt`), run.stderr)
  await writeFile(join(out, `${name}.asks.json`), JSON.stringify(asks, null, 2) + '\n')
  let created = 'no'
  try { await access(join(cli.cwd, 'approved.txt')); created = await readFile(join(cli.cwd, 'approved.txt'), 'utf8') } catch {}
  console.log(name, 'rc', run.code, 'asks', asks.length, 'file:', created, 'calls', cli.api.calls.length)
  server.close()
  await cli.cleanup()
}

const allow = (ask: Record<string, unknown>): Record<string, unknown> => ({ behavior: 'allow', updatedInput: ask['input'] })
const deny = (): Record<string, unknown> => ({ behavior: 'deny', message: 'The user denied this in Telegram.' })
const bash = { command: 'echo approved > approved.txt && echo ran' }
const write = { name: 'Write', command: '', input: { file_path: 'CWD/approved.txt', content: 'hello from the agent\n' } }
const which = process.argv[3] ?? 'all'
if (which === 'all' || which === 'bash') {
  await probe('claude-permission-bash-allow', allow, bash)
  await probe('claude-permission-bash-deny', deny, bash)
}
if (which === 'interrupt') await probe('claude-permission-bash-deny-interrupt', () => ({ behavior: 'deny', message: 'Denied and stopped by the user.', interrupt: true }), bash)
if (which === 'all' || which === 'more') {
  await probe('claude-permission-write-allow', allow, write)
  await probe('claude-permission-write-deny', deny, write)
  await probe('claude-permission-write-acceptedits', allow, write, 'acceptEdits')
  await probe('claude-permission-readonly-ls', allow, { command: 'ls' })
  await probe('claude-permission-bash-deny-interrupt', () => ({ behavior: 'deny', message: 'Denied and stopped by the user.', interrupt: true }), bash)
}

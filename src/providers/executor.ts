import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../config.ts'
import type { CliExecutor, CliRequest } from './cli-executor.ts'
import type { Runner, RunOutcome } from './runner.ts'
import { buildClaudeArgv } from './claude.ts'
import { buildCodexArgv } from './codex.ts'
import { buildCliEnv } from './cli-env.ts'
import { resolveCliBinary } from './resolve-binary.ts'
import type { Sandbox } from '../sandbox/docker-sandbox.ts'

export interface ExecutorOptions {
  config: () => Config
  runner: Runner
  home: string
  /** The admin API as the agent's `ductor` command should reach it. */
  api: () => { url: string | null, token: string | null }
  baseEnv?: NodeJS.ProcessEnv
  /** Directory with the `ductor` command, put first on the agent's PATH (default: this package's bin/). */
  binDir?: string
  /** The Docker sandbox (`docker.enabled`): runs go into its container while it is usable. */
  sandbox?: Sandbox
}

/** The package's `bin/` (holds `ductor.js` and the `ductor` shim), from src/ or dist/src/. */
export function packageBinDir (): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  return here.includes('/dist/src/') ? fileURLToPath(new URL('../../../bin/', import.meta.url)) : fileURLToPath(new URL('../../bin/', import.meta.url))
}

/** The MCP server Claude starts for ductor's permission prompts (bin/ductor-approval-mcp.mjs). */
const APPROVAL_TOOL = 'mcp__ductor__approve'

function approvalPrompt (): { mcpConfig: string, tool: string } {
  const script = join(packageBinDir(), 'ductor-approval-mcp.mjs')
  return { mcpConfig: JSON.stringify({ mcpServers: { ductor: { command: process.execPath, args: [script] } } }), tool: APPROVAL_TOOL }
}

/** Why a Claude run in `permission_mode: "ask"` does not start inside the Docker sandbox (docs/approvals.md). */
const ASK_IN_SANDBOX = 'permission_mode "ask" does not work inside the Docker sandbox yet: nothing in the container can ask you, so this run was not started. Turn the sandbox off (docker.enabled) or use another permission_mode for this chat, job or hook (docs/approvals.md).'

/**
 * The CLAUDE.md files of every folder above `cwd` (Claude Code loads them all): a task run must see
 * its own folder's rules only, not the main assistant's `workspace/CLAUDE.md` ("keep the user's
 * memory current") or anything further up.
 */
function parentRuleFiles (cwd: string): string[] {
  const files: string[] = []
  let dir = dirname(resolve(cwd))
  for (;;) {
    files.push(join(dir, 'CLAUDE.md'), join(dir, 'CLAUDE.local.md'), join(dir, '.claude', 'CLAUDE.md'))
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return files
}

/**
 * Runs one CLI turn for the core (SPEC §7.1): builds the argv (Claude or Codex), the environment
 * (DUCTOR_HOME, DUCTOR_CHAT_ID, the API URL/token, `ductor` on PATH), and hands it to the runner —
 * inside the sandbox container when `docker.enabled` and Docker is usable, else on the host
 * (src/sandbox/docker-sandbox.ts). The request's AbortSignal aborts the run.
 */
export function createCliExecutor (opts: ExecutorOptions): CliExecutor {
  const baseEnv = opts.baseEnv ?? process.env
  const binDir = opts.binDir ?? packageBinDir()
  return {
    async execute (req: CliRequest): Promise<RunOutcome> {
      const config = opts.config()
      const sandbox = config.docker.enabled && opts.sandbox !== undefined && (await opts.sandbox.prepare()).where === 'docker' ? opts.sandbox : null
      const pathEnv = baseEnv['PATH']
      const cliPaths = { claude: config.cli_paths.claude || undefined, codex: config.cli_paths.codex || undefined }
      // In the container the CLI is the image's (`cli_paths` are host paths).
      const binary = sandbox !== null ? req.provider : resolveCliBinary(req.provider, { cliPaths, pathEnv })
      const cwd = sandbox !== null ? sandbox.containerPath(req.cwd) : req.cwd
      const cliParameters = req.cliParameters ?? config.cli_parameters[req.provider]
      const permissionMode = req.permissionMode ?? config.permission_mode
      // `ask` is ductor's: Claude runs in its `default` mode and asks ductor's permission-prompt tool.
      // Without a token nothing answers, and Claude's print mode denies whatever it would have asked about.
      if (permissionMode === 'ask' && req.provider === 'claude' && sandbox !== null) {
        // Nothing inside the container can reach the user with a tool request: refuse clearly rather
        // than run a Claude that silently denies everything it would have asked about (ADR 0029).
        await req.claim.started()
        return { status: 'error:ask_in_sandbox', kind: 'cli_error', result: null, userMessage: ASK_IN_SANDBOX, exitCode: null, signal: null, stderrTail: '', durationMs: 0 }
      }
      const permissionPrompt = permissionMode === 'ask' && req.approvalToken !== undefined ? approvalPrompt() : null
      let argv = req.provider === 'claude'
        ? buildClaudeArgv({
          binary,
          prompt: req.prompt,
          model: req.model,
          permissionMode: permissionMode === 'ask' ? 'default' : permissionMode,
          permissionPrompt,
          appendSystemPrompt: req.systemAppend ?? null,
          maxTurns: config.max_turns,
          maxBudgetUsd: config.max_budget_usd,
          resumeSessionId: req.resumeSessionId ?? null,
          noSessionPersistence: req.noSessionPersistence === true,
          excludeRuleFiles: req.noSessionPersistence === true ? parentRuleFiles(cwd) : undefined,
          cliParameters
        })
        : buildCodexArgv({
          binary,
          prompt: req.prompt,
          model: req.model,
          permissionMode,
          reasoningEffort: req.reasoningEffort ?? config.reasoning_effort,
          images: req.images,
          resumeThreadId: req.resumeSessionId ?? null,
          systemPrompt: req.systemAppend ?? null,
          ephemeral: req.noSessionPersistence === true,
          cliParameters
        })
      const api = opts.api()
      const env = buildCliEnv({
        baseEnv,
        provider: req.provider,
        permissionMode,
        ductorHome: opts.home,
        chatId: req.chatId,
        apiUrl: api.url,
        apiToken: api.token,
        extraBinDir: binDir,
        isRoot: process.getuid?.() === 0
      })
      env['DUCTOR_NODE'] = process.execPath
      env['DUCTOR_SANDBOX'] = 'host'
      if (permissionPrompt !== null && req.approvalToken !== undefined) env['DUCTOR_APPROVAL_RUN'] = req.approvalToken
      else delete env['DUCTOR_APPROVAL_RUN']
      // The agent needs the admin token (its `ductor` command), never the bot token.
      delete env['DUCTOR_TELEGRAM_TOKEN']
      const inside = sandbox?.wrap(argv, { runId: req.runId, cwd: req.cwd, env })
      if (inside !== undefined) argv = inside.argv
      // The runner records the work as started right before the CLI execs (src/claims.ts).
      const handle = opts.runner.run({
        claim: req.claim,
        runId: req.runId,
        chatId: req.chatId,
        provider: req.provider,
        argv,
        cwd: req.cwd,
        env,
        ...(inside === undefined ? {} : { inside: inside.inside }),
        timeoutMs: config.cli_timeout * 1000,
        onEvent: req.onEvent
      })
      const onAbort = (): void => { handle.abort('user').catch(() => {}) }
      if (req.signal.aborted) onAbort()
      else req.signal.addEventListener('abort', onAbort, { once: true })
      try {
        // Secrets the CLI printed (its environment holds the admin token) are masked by the core's
        // maskingExecutor, with every other live secret (src/core/masking-executor.ts).
        return await handle.done
      } finally {
        req.signal.removeEventListener('abort', onAbort)
      }
    }
  }
}

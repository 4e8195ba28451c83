/** argv for one Codex run (SPEC §7.1). Pure: no I/O, no config reading. */

export interface CodexArgvOptions {
  /** Path or name of the `codex` binary (argv[0]). */
  binary: string
  prompt: string
  /** Omitted when empty: Codex then uses its config.toml model. */
  model?: string | null
  /**
   * `bypassPermissions` → --dangerously-bypass-approvals-and-sandbox; anything else → `--sandbox
   * workspace-write` (what SPEC's `--full-auto` meant; Codex 0.169 removed that flag, see ADR 0003).
   */
  permissionMode: string
  /** `low` `medium` `high` `xhigh` → `-c model_reasoning_effort=E`. */
  reasoningEffort?: string | null
  /** Image files attached to the prompt (`--image F`, once per file). */
  images?: readonly string[]
  /** Continue this thread (`codex exec … resume <thread_id>`). */
  resumeThreadId?: string | null
  /** System text and memory: Codex has no system-prompt flag, so it is folded into the prompt. */
  systemPrompt?: string | null
  /** Unattended task runs: `--ephemeral`, Codex writes no rollout (session) file. */
  ephemeral?: boolean
  /** `cli_parameters.codex`: extra flags. */
  cliParameters?: readonly string[]
}

/**
 * `codex exec --json --color never --skip-git-repo-check <sandbox> [--ephemeral] [--model M]
 * [-c model_reasoning_effort=E] [cli_parameters…] [resume <thread_id>] [--image F]… -- <prompt>`.
 *
 * Every option goes before `resume`: there they are all accepted, while after it only Codex's
 * `global` flags are (`--color` and most of `cli_parameters` are not). `--image` goes last, just
 * before `--`, because the top-level `--image` takes several values and would swallow `resume`.
 */
export function buildCodexArgv (options: CodexArgvOptions): string[] {
  const argv = [
    options.binary,
    'exec',
    '--json',
    '--color', 'never',
    '--skip-git-repo-check',
    ...(options.permissionMode === 'bypassPermissions' ? ['--dangerously-bypass-approvals-and-sandbox'] : ['--sandbox', 'workspace-write'])
  ]
  if (options.ephemeral === true) argv.push('--ephemeral')
  if (hasText(options.model)) argv.push('--model', options.model)
  if (hasText(options.reasoningEffort)) argv.push('-c', `model_reasoning_effort=${options.reasoningEffort}`)
  argv.push(...(options.cliParameters ?? []))
  if (hasText(options.resumeThreadId)) argv.push('resume', options.resumeThreadId)
  for (const image of options.images ?? []) argv.push('--image', image)
  argv.push('--', foldCodexPrompt(options.prompt, options.systemPrompt))
  return argv
}

/** The prompt Codex receives: system text first, then the user's message. */
export function foldCodexPrompt (prompt: string, systemPrompt?: string | null): string {
  if (!hasText(systemPrompt)) return prompt
  return `${systemPrompt.trim()}\n\n---\n\n${prompt}`
}

function hasText (value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim() !== ''
}

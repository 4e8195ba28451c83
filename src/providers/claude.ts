/** argv for one Claude Code run (SPEC §7.1). Pure: no I/O, no config reading. */

export interface ClaudeArgvOptions {
  /** Path or name of the `claude` binary (argv[0]). */
  binary: string
  prompt: string
  model: string
  /** `default`, `acceptEdits`, `plan`, `bypassPermissions`, … passed through. */
  permissionMode: string
  /** Appended to Claude's system prompt (memory, rules). */
  appendSystemPrompt?: string | null
  maxTurns?: number | null
  maxBudgetUsd?: number | null
  /** Continue this session (must have been created from the same cwd and HOME). */
  resumeSessionId?: string | null
  /** Unattended task runs: write no session file. */
  noSessionPersistence?: boolean
  /**
   * CLAUDE.md files Claude must not load (absolute paths, `--settings {"claudeMdExcludes": …}`): a
   * task run in `workspace/cron_tasks/<name>/` must not read the main assistant's rules from the
   * folders above it.
   */
  excludeRuleFiles?: readonly string[]
  /**
   * Delegate permission prompts (ductor's `ask` mode, docs/approvals.md): `--mcp-config <json>
   * --permission-prompt-tool <tool>`; Claude then calls that MCP tool wherever a terminal would ask.
   */
  permissionPrompt?: { mcpConfig: string, tool: string } | null
  /** `cli_parameters.claude`: extra flags placed before `--`. */
  cliParameters?: readonly string[]
}

export function buildClaudeArgv (options: ClaudeArgvOptions): string[] {
  const argv = [
    options.binary,
    '-p',
    '--output-format', 'stream-json',
    '--verbose',
    // The only way to get text deltas for live streaming (NOTES §5).
    '--include-partial-messages',
    '--permission-mode', options.permissionMode,
    '--model', options.model
  ]
  if (hasText(options.appendSystemPrompt)) argv.push('--append-system-prompt', options.appendSystemPrompt)
  if (options.maxTurns != null) argv.push('--max-turns', String(options.maxTurns))
  if (options.maxBudgetUsd != null) argv.push('--max-budget-usd', String(options.maxBudgetUsd))
  if (hasText(options.resumeSessionId)) argv.push('--resume', options.resumeSessionId)
  if (options.noSessionPersistence === true) argv.push('--no-session-persistence')
  if (options.permissionPrompt != null) {
    argv.push('--mcp-config', options.permissionPrompt.mcpConfig, '--permission-prompt-tool', options.permissionPrompt.tool)
  }
  if (options.excludeRuleFiles !== undefined && options.excludeRuleFiles.length > 0) {
    argv.push('--settings', JSON.stringify({ claudeMdExcludes: options.excludeRuleFiles }))
  }
  argv.push(...(options.cliParameters ?? []), '--', options.prompt)
  return argv
}

function hasText (value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim() !== ''
}

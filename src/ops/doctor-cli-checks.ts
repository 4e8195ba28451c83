import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config.ts'
import { findExecutable } from '../providers/resolve-binary.ts'
import { exists } from './service-types.ts'
import { ok, warn, fail, type CheckResult, type DoctorContext } from './doctor-types.ts'

export type Provider = 'claude' | 'codex'

const INSTALL: Record<Provider, string> = {
  claude: 'npm install -g @anthropic-ai/claude-code',
  codex: 'npm install -g @openai/codex'
}
const LOGIN: Record<Provider, string> = {
  claude: 'run `claude` once and log in (or set ANTHROPIC_API_KEY for the service)',
  codex: 'run `codex login` (or set OPENAI_API_KEY for the service)'
}

/**
 * The CLI is installed and runs (`--version`). Missing is a failure only for the default provider;
 * the other one is optional.
 */
export async function checkCliInstalled (provider: Provider, config: Config, ctx: Pick<DoctorContext, 'env' | 'runner'>): Promise<{ result: CheckResult, path: string | null }> {
  const name = `${provider} CLI`
  const isDefault = config.provider === provider
  const explicit = config.cli_paths[provider]
  const path = findExecutable(explicit !== '' ? explicit : provider, ctx.env['PATH'])
  if (path === null) {
    if (explicit !== '') return { result: fail(name, `cli_paths.${provider} is ${explicit}, which is not an executable file`, `fix cli_paths.${provider}, or set it to "" to use PATH`), path }
    return {
      result: isDefault
        ? fail(name, `${provider} is not on PATH, and it is the default provider`, INSTALL[provider])
        : ok(name, `not installed (optional; the default provider is ${config.provider})`),
      path
    }
  }
  const run = await ctx.runner(path, ['--version'], { timeoutMs: 15_000 })
  const line = (run.stdout + '\n' + run.stderr).split('\n').map((l) => l.trim()).find((l) => l !== '') ?? ''
  if (run.exitCode !== 0) {
    const detail = `${path} does not run (\`--version\` ${run.timedOut ? 'timed out' : `exit ${run.exitCode}`}${line === '' ? '' : `: ${line}`})`
    return { result: isDefault ? fail(name, detail, `reinstall it: ${INSTALL[provider]}`) : warn(name, detail, `reinstall it: ${INSTALL[provider]}`), path }
  }
  return { result: ok(name, `${line} (${path})`), path }
}

/**
 * Best effort: whether the CLI has credentials. Claude: ~/.claude/.credentials.json (or under
 * CLAUDE_CONFIG_DIR), an OAuth account in ~/.claude.json, ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN
 * (macOS keeps Claude's credentials in the Keychain, which is not read). Codex: $CODEX_HOME/auth.json
 * (default ~/.codex/auth.json), OPENAI_API_KEY or CODEX_API_KEY. Expired credentials are not detected.
 */
export async function checkCliLogin (provider: Provider, config: Config, ctx: Pick<DoctorContext, 'env' | 'userHome' | 'platform'>): Promise<CheckResult> {
  const name = `${provider} login`
  const found = await findCliLogin(provider, ctx)
  if (found !== null) return ok(name, found.how)
  const isDefault = config.provider === provider
  const where = provider === 'claude' ? 'no credentials file, OAuth account or API key found' : 'no auth.json or API key found'
  if (provider === 'claude' && ctx.platform === 'darwin') {
    return warn(name, `${where}; on macOS Claude keeps its login in the Keychain, which this check cannot see`, LOGIN.claude)
  }
  return isDefault ? fail(name, where, LOGIN[provider]) : warn(name, `${where} (not the default provider)`, LOGIN[provider])
}

/** How a CLI is logged in: in a few words, and the file holding the login (its age is the login's age). */
export interface CliLogin { how: string, file: string | null }

/** The CLI's login as `checkCliLogin` finds it (same sources), or null when none is found. */
export async function findCliLogin (provider: Provider, ctx: Pick<DoctorContext, 'env' | 'userHome'>): Promise<CliLogin | null> {
  return provider === 'claude' ? await claudeCredentials(ctx) : await codexCredentials(ctx)
}

async function claudeCredentials (ctx: Pick<DoctorContext, 'env' | 'userHome'>): Promise<CliLogin | null> {
  for (const key of ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']) {
    if ((ctx.env[key] ?? '') !== '') return { how: `${key} is set`, file: null }
  }
  const configDir = nonEmpty(ctx.env['CLAUDE_CONFIG_DIR']) ?? join(ctx.userHome, '.claude')
  const credentials = join(configDir, '.credentials.json')
  if (await exists(credentials)) return { how: `credentials in ${credentials}`, file: credentials }
  const globalConfig = nonEmpty(ctx.env['CLAUDE_CONFIG_DIR']) !== null ? join(configDir, '.claude.json') : join(ctx.userHome, '.claude.json')
  try {
    const parsed = JSON.parse(await readFile(globalConfig, 'utf8')) as { oauthAccount?: unknown }
    if (typeof parsed.oauthAccount === 'object' && parsed.oauthAccount !== null) return { how: `an OAuth account in ${globalConfig}`, file: globalConfig }
  } catch {}
  return null
}

async function codexCredentials (ctx: Pick<DoctorContext, 'env' | 'userHome'>): Promise<CliLogin | null> {
  for (const key of ['OPENAI_API_KEY', 'CODEX_API_KEY']) {
    if ((ctx.env[key] ?? '') !== '') return { how: `${key} is set`, file: null }
  }
  const auth = join(nonEmpty(ctx.env['CODEX_HOME']) ?? join(ctx.userHome, '.codex'), 'auth.json')
  return await exists(auth) ? { how: `credentials in ${auth}`, file: auth } : null
}

function nonEmpty (value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value
}

// Isolated, offline environments for the real `claude` and `codex` binaries (the dev dependencies),
// each pointed at a fake model API on 127.0.0.1. The settings and why each one is needed are in
// test/fixtures/cli/NOTES.md; the fakes are in test/fakes/model-api/.
import { execFile } from 'node:child_process'
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFakeAnthropic } from '../fakes/model-api/fake-anthropic.ts'
import { startFakeOpenAI } from '../fakes/model-api/fake-openai.ts'
import type { FakeModelApi, ReplySource } from '../fakes/model-api/script.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Absolute paths of the real binaries installed by `npm ci` (the pinned versions). To run the
 * real-CLI tests against other versions (the newest published, after touching a parser or the argv),
 * install them in a temp dir and point DUCTOR_TEST_CLAUDE_BIN / DUCTOR_TEST_CODEX_BIN at them.
 */
export const CLAUDE_BIN = process.env['DUCTOR_TEST_CLAUDE_BIN'] ?? join(ROOT, 'node_modules', '.bin', 'claude')
export const CODEX_BIN = process.env['DUCTOR_TEST_CODEX_BIN'] ?? join(ROOT, 'node_modules', '.bin', 'codex')

/** The environment variable that carries Codex's API key (named by `env_key` in config.toml). */
export const CODEX_KEY_ENV = 'FAKE_OPENAI_API_KEY'

export interface RealCliEnv {
  /** The complete environment for the child (not merged with process.env: nothing of the host leaks in). */
  env: Record<string, string>
  /** Absolute path of the real binary. */
  binPath: string
  /** The fresh HOME (Claude keeps its sessions under it; Codex's CODEX_HOME is `<home>/.codex`). */
  home: string
  /** An empty working directory inside HOME. Claude only resumes a session from the cwd it was made in. */
  cwd: string
  /** The fake model API the CLI talks to. */
  api: FakeModelApi
  /** Closes the fake (if started here) and removes HOME (if made here). Safe to call twice. */
  cleanup: () => Promise<void>
}

export interface RealCliEnvOptions {
  /** Use this running fake instead of starting one (cleanup leaves it open). */
  api?: FakeModelApi
  /** The script for the fake started here (see FakeModelApiOptions.reply). */
  reply?: ReplySource
  /** Retries after a failed API call: CLAUDE_CODE_MAX_RETRIES, Codex's request/stream_max_retries. Default 1. */
  maxRetries?: number
  /** Use this directory as HOME instead of a fresh one (cleanup leaves it). */
  home?: string
  /** Run `<bin> --version` first and throw a clear error if the binary cannot run. Default true. */
  verify?: boolean
}

/** Claude Code against a fake Anthropic API: `ANTHROPIC_BASE_URL`, a dummy key, no telemetry, capped retries. */
export async function prepareClaudeEnv (options: RealCliEnvOptions = {}): Promise<RealCliEnv> {
  return await prepare('claude', options, startFakeAnthropic, async (api) => ({
    ANTHROPIC_BASE_URL: api.baseUrl,
    ANTHROPIC_API_KEY: 'sk-test',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: String(options.maxRetries ?? 1),
    // As root, `--permission-mode bypassPermissions` is refused unless the CLI is told it is sandboxed.
    ...(process.getuid?.() === 0 ? { IS_SANDBOX: '1' } : {})
  }))
}

/** Codex against a fake Responses API: a CODEX_HOME with config.toml naming a custom provider. */
export async function prepareCodexEnv (options: RealCliEnvOptions & { model?: string } = {}): Promise<RealCliEnv> {
  return await prepare('codex', options, startFakeOpenAI, async (api, home) => {
    const codexHome = join(home, '.codex')
    await mkdir(codexHome, { recursive: true })
    await writeFile(join(codexHome, 'config.toml'), codexConfig(api.baseUrl, options.model ?? 'gpt-5.5', options.maxRetries ?? 1))
    return { CODEX_HOME: codexHome, [CODEX_KEY_ENV]: 'sk-test' }
  })
}

/**
 * The config.toml for Codex. `analytics.enabled = false` avoids a 5 s stall at exit,
 * `features.plugins = false` stops a `git ls-remote` to GitHub, a custom provider with
 * `wire_api = "responses"` uses plain HTTP + SSE (the built-in one tries WebSockets first).
 */
export function codexConfig (baseUrl: string, model: string, maxRetries: number): string {
  return [
    `model = ${JSON.stringify(model)}`,
    'model_provider = "fake"',
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    'plugins = false',
    '',
    '[model_providers.fake]',
    'name = "fake"',
    `base_url = ${JSON.stringify(baseUrl)}`,
    `env_key = "${CODEX_KEY_ENV}"`,
    'wire_api = "responses"',
    `request_max_retries = ${maxRetries}`,
    `stream_max_retries = ${maxRetries}`,
    ''
  ].join('\n')
}

/** Both CLIs on one HOME with one merged env, as the service would run them. */
export async function prepareRealCliEnvs (options: { claude?: RealCliEnvOptions, codex?: RealCliEnvOptions & { model?: string } } = {}): Promise<{
  env: Record<string, string>
  home: string
  cwd: string
  claude: RealCliEnv
  codex: RealCliEnv
  cleanup: () => Promise<void>
}> {
  const home = await mkdtemp(join(tmpdir(), 'ductor-real-cli-'))
  const parts: RealCliEnv[] = []
  const cleanup = async (): Promise<void> => {
    for (const part of parts) await part.cleanup()
    await rm(home, { recursive: true, force: true })
  }
  try {
    parts.push(await prepareClaudeEnv({ ...options.claude, home }))
    parts.push(await prepareCodexEnv({ ...options.codex, home }))
  } catch (err) {
    await cleanup()
    throw err
  }
  const [claude, codex] = parts as [RealCliEnv, RealCliEnv]
  return { env: { ...claude.env, ...codex.env }, home, cwd: claude.cwd, claude, codex, cleanup }
}

type CliName = 'claude' | 'codex'

async function prepare (
  cli: CliName,
  options: RealCliEnvOptions,
  start: (o: { reply?: ReplySource }) => Promise<FakeModelApi>,
  cliEnv: (api: FakeModelApi, home: string) => Promise<Record<string, string>>
): Promise<RealCliEnv> {
  const binPath = cli === 'claude' ? CLAUDE_BIN : CODEX_BIN
  const home = options.home ?? await mkdtemp(join(tmpdir(), `ductor-${cli}-`))
  const api = options.api ?? await start(options.reply === undefined ? {} : { reply: options.reply })
  let cleaned = false
  const cleanup = async (): Promise<void> => {
    if (cleaned) return
    cleaned = true
    if (options.api === undefined) await api.close()
    if (options.home === undefined) await rm(home, { recursive: true, force: true })
  }
  try {
    const cwd = join(home, 'work')
    await mkdir(cwd, { recursive: true })
    const env = {
      // The codex launcher is a `#!/usr/bin/env node` script: put this Node first on PATH.
      PATH: [dirname(process.execPath), process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter),
      HOME: home,
      ...await cliEnv(api, home)
    }
    if (options.verify !== false) await assertCliRuns(cli, binPath, env)
    return { env, binPath, home, cwd, api, cleanup }
  } catch (err) {
    await cleanup()
    throw err
  }
}

const INSTALL_HINT: Record<CliName, string> = {
  claude: 'Run `npm ci` with install scripts enabled: the postinstall of @anthropic-ai/claude-code puts the native ' +
    'binary over the bin/claude.exe placeholder (after --ignore-scripts run `node node_modules/@anthropic-ai/claude-code/install.cjs`; ' +
    'with --omit=optional the platform package @anthropic-ai/claude-code-<os>-<arch> is missing).',
  codex: 'Run `npm ci` without --omit=optional: bin/codex.js spawns the native binary from the platform package ' +
    '@openai/codex-<os>-<arch> (an alias of @openai/codex@<version>-<os>-<arch>).'
}

/** Throws a clear error (never skips) when the binary is missing or cannot run on this machine. */
export async function assertCliRuns (cli: CliName, binPath: string, env: Record<string, string>): Promise<string> {
  try {
    await access(binPath)
  } catch {
    throw new Error(`The real ${cli} CLI is not installed at ${binPath}. ${INSTALL_HINT[cli]}`)
  }
  return await new Promise((resolve, reject) => {
    execFile(binPath, ['--version'], { env, timeout: 20_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err === null) {
        resolve(stdout.trim())
        return
      }
      const output = `${stderr}${stdout}`.trim().split('\n').slice(0, 6).join('\n')
      reject(new Error(`The real ${cli} CLI at ${binPath} does not run on this machine (${err.message.split('\n')[0] ?? ''}):\n${output}\n${INSTALL_HINT[cli]}`))
    })
  })
}

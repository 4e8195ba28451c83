import { chooseHome, readDuctorHome } from '../home/paths.ts'
import { readConfigReadOnly } from './config-read.ts'
import { checkConfig, checkExposure, checkHome, checkNode, checkPort, checkService, checkUserFiles } from './doctor-checks.ts'
import { checkCliInstalled, checkCliLogin } from './doctor-cli-checks.ts'
import { checkSandbox } from './doctor-sandbox.ts'
import { checkBotApi, checkBotToken, checkWebhook, scrubToken } from './doctor-telegram.ts'
import { fail, ok, warn, type CheckResult, type DoctorContext } from './doctor-types.ts'

export type { CheckResult, CheckStatus, DoctorContext } from './doctor-types.ts'

/**
 * Runs every check in order and returns the list. Read-only: it writes nothing to the home. Checks
 * that need a valid config are skipped when it is invalid; the Bot API checks need a token.
 */
export async function runDoctor (ctx: DoctorContext): Promise<CheckResult[]> {
  // The data home: the folder config.json's ductor_home names, as the service finds it (ADR 0028).
  const located = chooseHome(ctx.home, readDuctorHome(ctx.home), ctx.env)
  const paths = located.paths
  const results: CheckResult[] = [checkNode(ctx.nodeVersion)]
  const reading = await readConfigReadOnly(ctx.home, ctx.env)
  results.push(checkConfig(reading))
  results.push(await checkHome(ctx.home, ctx.uid))
  if (located.error !== null) results.push(fail('ductor_home', located.error, 'fix or remove "ductor_home" in config.json'))
  else if (located.note !== null) results.push(located.level === 'info' ? ok('ductor_home', located.note) : warn('ductor_home', located.note))
  results.push(...await checkUserFiles(paths))
  if (reading.status !== 'ok') return results
  const config = reading.config
  const sandbox = await checkSandbox(config, ctx)
  for (const provider of ['claude', 'codex'] as const) {
    const installed = await checkCliInstalled(provider, config, ctx)
    // With the sandbox in use the CLIs run in the container: one missing on the host is no failure.
    results.push(sandbox.usable && installed.path === null && installed.result.status === 'fail' && config.cli_paths[provider] === ''
      ? { name: installed.result.name, status: 'ok', detail: `not on the host's PATH; runs use the sandbox container's ${provider}` }
      : installed.result)
    if (installed.path !== null) results.push(await checkCliLogin(provider, config, ctx))
  }
  results.push(sandbox.result)
  results.push(await checkPort(config, paths.state, paths.pidFile, ctx.fetch, ctx.timeoutMs))
  results.push(checkExposure(config, ctx.inContainer))
  const service = await checkService(ctx)
  if (service !== null) results.push(service)
  const token = checkBotToken(config)
  results.push(token)
  if (config.telegram_token !== '' && token.status !== 'fail') {
    const api = await checkBotApi(config, ctx.fetch, ctx.timeoutMs)
    results.push(api)
    if (api.status === 'ok') results.push(await checkWebhook(config, ctx.fetch, ctx.timeoutMs))
  }
  const secret = config.telegram_token
  return results.map((r) => ({
    ...r,
    detail: scrubToken(r.detail, secret),
    ...(r.fix === undefined ? {} : { fix: scrubToken(r.fix, secret) })
  }))
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const

/** The short checklist `ductor doctor` prints: one line per check, the fix under it, a summary. */
export function formatChecklist (results: CheckResult[], home: string): string {
  const width = Math.max(...results.map((r) => r.name.length))
  const lines = [`ductor doctor: ${home}`]
  for (const r of results) {
    lines.push(`${MARK[r.status]} ${r.name.padEnd(width)}  ${r.detail}`)
    if (r.fix !== undefined && r.status !== 'ok') lines.push(`  ${' '.repeat(width)}  fix: ${r.fix}`)
  }
  const failing = results.filter((r) => r.status === 'fail').length
  const warnings = results.filter((r) => r.status === 'warn').length
  lines.push(failing === 0 && warnings === 0
    ? 'All checks passed.'
    : `${failing} failing, ${warnings} warning${warnings === 1 ? '' : 's'}.`)
  return lines.join('\n') + '\n'
}

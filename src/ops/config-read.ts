import { readFile } from 'node:fs/promises'
import { applyEnv, assertValid, completeConfig, configPath, type Config } from '../config.ts'

export type ConfigReading =
  | { status: 'ok', path: string, config: Config, missing: boolean }
  | { status: 'invalid', path: string, message: string }

/**
 * Reads the effective configuration like the service would (file + defaults + environment) without
 * writing anything: no file is created, no defaults or secrets are written back. For `doctor` and
 * `service install`, which must not change a home they only inspect.
 */
export async function readConfigReadOnly (home: string, env: NodeJS.ProcessEnv): Promise<ConfigReading> {
  const path = configPath(home)
  let raw: unknown = {}
  let missing = false
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') missing = true
    else if (e instanceof SyntaxError) return { status: 'invalid', path, message: `${path} is not valid JSON (${e.message}); on start it would be moved aside and defaults used` }
    else return { status: 'invalid', path, message: `cannot read ${path}: ${e.code ?? e.message}` }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { status: 'invalid', path, message: `${path} does not hold a JSON object; on start it would be moved aside and defaults used` }
  }
  try {
    const config = completeConfig(raw as Record<string, unknown>)
    assertValid(config, (p) => `config.json: ${p}`)
    return { status: 'ok', path, config: applyEnv(config, env), missing }
  } catch (err) {
    return { status: 'invalid', path, message: (err as Error).message }
  }
}

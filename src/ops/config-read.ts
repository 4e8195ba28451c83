import { readFile } from 'node:fs/promises'
import { applyEnv, assertValid, completeConfig, configPath, unknownConfigKeys, type Config, type UnknownKey } from '../config.ts'
import { describeJsonProblem, jsonProblem } from '../json-location.ts'

export type ConfigReading =
  | { status: 'ok', path: string, config: Config, missing: boolean, unknownKeys: UnknownKey[] }
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
    const text = await readFile(path, 'utf8')
    const problem = jsonProblem(text)
    if (problem !== null) return { status: 'invalid', path, message: `${describeJsonProblem(path, problem)}; ductor will not start until it is fixed (the file is never replaced)` }
    raw = JSON.parse(text)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') missing = true
    else return { status: 'invalid', path, message: `cannot read ${path}: ${e.code ?? e.message}` }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { status: 'invalid', path, message: `${path} does not hold a JSON object of settings; ductor will not start until it is fixed` }
  }
  try {
    const config = completeConfig(raw as Record<string, unknown>)
    assertValid(config, (p) => `config.json: ${p}`)
    return { status: 'ok', path, config: applyEnv(config, env), missing, unknownKeys: unknownConfigKeys(raw as Record<string, unknown>) }
  } catch (err) {
    return { status: 'invalid', path, message: (err as Error).message }
  }
}

import type { TestContext } from 'node:test'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnCli, collect, killTree, runCli, tempDir, waitFor, fakeClis, type CliRun } from '../helper.ts'
import { readServiceInfo } from '../../src/home/service-info.ts'

/** A real `ductor serve` on a temporary home with fake CLIs; the `ductor` commands find it by the home. */
export async function startService (t: TestContext, extraEnv: NodeJS.ProcessEnv = {}, config?: Record<string, unknown>): Promise<{ home: string, env: NodeJS.ProcessEnv, stop: () => Promise<number | null> }> {
  const home = await tempDir(t)
  const bin = await fakeClis(t)
  if (config !== undefined) {
    await mkdir(join(home, 'config'), { recursive: true })
    await writeFile(join(home, 'config', 'config.json'), JSON.stringify(config))
  }
  const env = { DUCTOR_HOME: home, DUCTOR_PORT: '0', DUCTOR_USER_TIMEZONE: 'UTC', ...bin.env, ...extraEnv }
  const service = spawnCli(['serve', '--no-supervisor'], env)
  t.after(() => killTree(service))
  const done = collect(service, 300_000)
  await waitFor(() => readServiceInfo(join(home, 'state')).then((i) => i ?? undefined), 120_000, 'the service')
  return {
    home,
    env,
    stop: async () => {
      service.kill('SIGTERM')
      return (await done).code
    }
  }
}

/** `ductor …` with a generous timeout: the machine running the tests may be busy (no timing is asserted). */
export async function ductor (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return await runCli(args, env, { timeoutMs: 180_000 })
}

/** Shared set-up for runner tests: fake CLIs on a temp PATH, a runner with a captured log. */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { TestContext } from 'node:test'
import { pino } from 'pino'
import { buildClaudeArgv } from '../../src/providers/claude.ts'
import { buildCodexArgv } from '../../src/providers/codex.ts'
import type { CliEvent, ProviderName } from '../../src/providers/events.ts'
import { createProcessRegistry, type ProcessRegistry } from '../../src/providers/process-registry.ts'
import { createRunner, type RunHandle, type Runner } from '../../src/providers/runner.ts'
import { createFakeBin, type FakeBin } from '../fakes/fake-bin.ts'
import { createSpawner, type Spawner } from '../../src/providers/spawner.ts'
import { packageBinDir } from '../../src/providers/executor.ts'

export interface Rig {
  bin: FakeBin
  dir: string
  registry: ProcessRegistry
  runner: Runner
  /** The CLI spawner the runner spawns through (undefined: in-process spawns). */
  spawner: Spawner | undefined
  logs: Array<Record<string, unknown>>
  start: (options: StartOptions) => { handle: RunHandle, events: CliEvent[], recordFile: string }
  recorded: (file: string) => Promise<{ argv: string[], cwd: string, env: Record<string, string>, pid: number, grandchildPid?: number }>
}

export interface StartOptions {
  provider?: ProviderName
  prompt?: string
  env?: Record<string, string>
  timeoutMs?: number
  chatId?: string
  resume?: string
  argv?: string[]
  cwd?: string
  /** Replaces collecting the events (a test that must not hold them all). */
  onEvent?: (event: CliEvent) => void
}

let counter = 0

export interface RigOptions {
  /** Spawn through a CLI spawner process (ADR 0032); default: as DUCTOR_TEST_SPAWNER says, else yes. */
  spawner?: boolean
}

export async function createRig (t: TestContext, graceMs = 300, rigOptions: RigOptions = {}): Promise<Rig> {
  const bin = await createFakeBin()
  const dir = await mkdtemp(join(tmpdir(), 'ductor-runner-'))
  const registry = createProcessRegistry()
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  const logger = pino({ level: 'debug' }, sink)
  const useSpawner = rigOptions.spawner ?? process.env['DUCTOR_TEST_SPAWNER'] !== '0'
  const spawner = useSpawner ? createSpawner({ script: join(packageBinDir(), 'ductor-spawner.mjs'), logger }) : undefined
  const runner = createRunner({ logger, registry, graceMs, ...(spawner === undefined ? {} : { spawner }) })
  t.after(async () => {
    await registry.killAll()
    await spawner?.close()
    await bin.cleanup()
    await rm(dir, { recursive: true, force: true })
  })

  function start (options: StartOptions): { handle: RunHandle, events: CliEvent[], recordFile: string } {
    const provider = options.provider ?? 'claude'
    const prompt = options.prompt ?? 'hello'
    const recordFile = join(dir, `record-${++counter}.json`)
    const argv = options.argv ?? (provider === 'claude'
      ? buildClaudeArgv({ binary: bin.claude, prompt, model: 'sonnet', permissionMode: 'default', resumeSessionId: options.resume })
      : buildCodexArgv({ binary: bin.codex, prompt, model: 'gpt-5.5', permissionMode: 'default', resumeThreadId: options.resume }))
    const events: CliEvent[] = []
    const handle = runner.run({
      runId: `run-${counter}`,
      chatId: options.chatId ?? '42',
      provider,
      argv,
      cwd: options.cwd ?? dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, FAKE_CLI_RECORD: recordFile, ...options.env },
      timeoutMs: options.timeoutMs ?? 10_000,
      onEvent: options.onEvent ?? ((e) => events.push(e))
    })
    return { handle, events, recordFile }
  }

  async function recorded (file: string): ReturnType<Rig['recorded']> {
    // The fake writes its record right after it starts; wait for it.
    for (let i = 0; i < 200; i++) {
      try {
        return JSON.parse(await readFile(file, 'utf8'))
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    throw new Error(`no record in ${file}`)
  }

  return { bin, dir, registry, runner, spawner, logs, start, recorded }
}

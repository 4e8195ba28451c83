// Task runs (cron jobs, cron_task webhooks) through the service's CLI executor with the real CLIs
// against the fake model APIs: Claude must not read the main assistant's CLAUDE.md from the folders
// above the task folder, Codex must keep no session (rollout) file. Each run takes about a second.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { completeConfig } from '../../src/config.ts'
import { createCliExecutor } from '../../src/providers/executor.ts'
import { createProcessRegistry } from '../../src/providers/process-registry.ts'
import { createRunner } from '../../src/providers/runner.ts'
import { createClaimGate } from '../../src/claims.ts'
import { prepareClaudeEnv, prepareCodexEnv, type RealCliEnv } from '../e2e-support/real-cli-env.ts'

const MAIN_RULES = 'MAIN-ASSISTANT-RULES: keep memory_system/MAINMEMORY.md current.'
const TASK_RULES = 'TASK-FOLDER-RULES: you run the task news.'

async function taskFolder (cli: RealCliEnv): Promise<string> {
  const workspace = join(cli.home, 'ductor', 'workspace')
  const folder = join(workspace, 'cron_tasks', 'news')
  await mkdir(folder, { recursive: true })
  await writeFile(join(workspace, 'CLAUDE.md'), MAIN_RULES + '\n')
  await writeFile(join(workspace, 'AGENTS.md'), MAIN_RULES + '\n')
  await writeFile(join(folder, 'CLAUDE.md'), TASK_RULES + '\n')
  await writeFile(join(folder, 'AGENTS.md'), TASK_RULES + '\n')
  return folder
}

async function runThroughExecutor (cli: RealCliEnv, provider: 'claude' | 'codex', cwd: string, task: boolean): Promise<string> {
  const config = completeConfig({ provider, cli_paths: { [provider]: cli.binPath }, permission_mode: 'default' })
  const registry = createProcessRegistry()
  const executor = createCliExecutor({
    config: () => config,
    runner: createRunner({ logger: pino({ level: 'silent' }), registry }),
    home: join(cli.home, 'ductor'),
    api: () => ({ url: null, token: null }),
    baseEnv: cli.env
  })
  const outcome = await executor.execute({
    runId: `run-${provider}-${String(task)}`,
    chatId: task ? 'cron:news' : '42',
    claim: createClaimGate().claim(),
    provider,
    model: provider === 'claude' ? 'sonnet' : 'gpt-5.5',
    prompt: 'Carry out TASK_DESCRIPTION.md.',
    noSessionPersistence: task,
    cwd,
    onEvent: () => {},
    signal: new AbortController().signal
  })
  await registry.killAll()
  assert.equal(outcome.status, 'success', JSON.stringify(outcome.userMessage))
  return outcome.result?.text ?? ''
}

test('a Claude task run reads its own CLAUDE.md but not the main assistant\'s from workspace/ (a chat run there reads both)', async (t) => {
  const cli = await prepareClaudeEnv({ reply: 'done' })
  t.after(cli.cleanup)
  const folder = await taskFolder(cli)

  await runThroughExecutor(cli, 'claude', folder, true)
  const taskRequest = JSON.stringify(cli.api.calls.at(-1)?.body)
  assert.ok(taskRequest.includes(TASK_RULES), 'the task folder\'s own rules reach the model')
  assert.ok(!taskRequest.includes(MAIN_RULES), 'the main assistant\'s workspace/CLAUDE.md does not')

  // The same folder without the task isolation (the control: Claude does walk up to workspace/).
  await runThroughExecutor(cli, 'claude', folder, false)
  assert.ok(JSON.stringify(cli.api.calls.at(-1)?.body).includes(MAIN_RULES))
})

test('a Codex task run is --ephemeral: no rollout file under CODEX_HOME/sessions (a chat run writes one)', async (t) => {
  const cli = await prepareCodexEnv({ reply: 'done' })
  t.after(cli.cleanup)
  const folder = await taskFolder(cli)
  const rollouts = async (): Promise<string[]> => (await readdir(join(cli.home, '.codex', 'sessions'), { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl'))

  assert.equal(await runThroughExecutor(cli, 'codex', folder, true), 'done')
  assert.deepEqual(await rollouts(), [], 'the task run left no session file')

  await runThroughExecutor(cli, 'codex', folder, false)
  assert.equal((await rollouts()).length, 1, 'the control: a chat run keeps its thread')
})

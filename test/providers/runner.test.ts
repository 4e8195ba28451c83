import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ofType, textOf } from './parse-helpers.ts'
import { createRig } from './runner-helpers.ts'
import { isProcessAlive } from '../../src/providers/process-group.ts'
import type { CliEvent } from '../../src/providers/events.ts'
import { buildCliEnv } from '../../src/providers/cli-env.ts'
import { buildClaudeArgv } from '../../src/providers/claude.ts'
import { buildCodexArgv } from '../../src/providers/codex.ts'

test('a normal Claude run streams events and ends with the exact result', async (t) => {
  const rig = await createRig(t)
  const { handle, events, recordFile } = rig.start({ prompt: 'hi there', env: { FAKE_CLI_REPLY: 'Hello, world!', FAKE_CLI_DELAY_MS: '5' } })
  const outcome = await handle.done
  assert.equal(outcome.status, 'success')
  assert.equal(outcome.kind, 'success')
  assert.equal(outcome.userMessage, undefined)
  assert.equal(outcome.exitCode, 0)
  assert.equal(outcome.result?.text, 'Hello, world!')
  assert.equal(outcome.result?.costUsd, 0.0015)
  assert.equal(textOf(events), 'Hello, world!')
  assert.ok(ofType(events, 'text').length > 1, 'text arrives as deltas')
  assert.deepEqual(events.at(-1), { type: 'result', result: outcome.result })
  assert.equal(ofType(events, 'session')[0]?.sessionId, outcome.result?.sessionId)

  const seen = await rig.recorded(recordFile)
  assert.deepEqual(seen.argv.slice(0, 2), ['-p', '--output-format'])
  assert.deepEqual(seen.argv.slice(-2), ['--', 'hi there'])
  assert.equal(seen.cwd, rig.dir)
  assert.equal(seen.env.HOME, rig.dir)
  assert.deepEqual(rig.registry.list(), [])
})

test('resume: the fake echoes the session id (Claude) and accepts the Codex argv order', async (t) => {
  const rig = await createRig(t)
  const claude = await rig.start({ resume: 'sess-123', prompt: 'again' }).handle.done
  assert.equal(claude.status, 'success')
  assert.equal(claude.result?.sessionId, 'sess-123')
  const codex = await rig.start({ provider: 'codex', resume: 'thread-9', prompt: 'again' }).handle.done
  assert.equal(codex.status, 'success', codex.stderrTail)
  assert.equal(codex.result?.sessionId, 'thread-9')
  assert.equal(codex.result?.text, 'echo: again')
})

test('a Codex fixture replays with its tool and tokens', async (t) => {
  const rig = await createRig(t)
  const { handle, events } = rig.start({ provider: 'codex', env: { FAKE_CLI_TRANSCRIPT: 'codex-exec-tool.jsonl' } })
  const outcome = await handle.done
  assert.equal(outcome.status, 'success')
  assert.deepEqual(ofType(events, 'tool'), [{ type: 'tool', name: 'Shell', summary: 'echo hi' }])
  assert.deepEqual(outcome.result?.tokens, { input: 13950, output: 35, total: 13985 })
})

test('timeout: SIGTERM to the group, reported as error:timeout with what was streamed', async (t) => {
  const rig = await createRig(t)
  // Long enough for a node fake to start and print its first line on a loaded machine.
  const { handle, recordFile } = rig.start({ prompt: '[[hang]]', timeoutMs: 1500 })
  const outcome = await handle.done
  assert.equal(outcome.status, 'error:timeout')
  assert.equal(outcome.userMessage, 'Claude Code timed out after 1.5 s.')
  assert.equal(outcome.signal, 'SIGTERM')
  assert.equal(outcome.result?.complete, false)
  assert.match(outcome.result?.sessionId ?? '', /^[0-9a-f-]{36}$/)
  assert.equal(isProcessAlive((await rig.recorded(recordFile)).pid), false)
})

test('abort kills the whole group: the CLI and a grandchild that ignores SIGTERM', async (t) => {
  const rig = await createRig(t)
  const { handle, recordFile } = rig.start({ prompt: '[[hang]] [[grandchild]]' })
  const seen = await rig.recorded(recordFile)
  assert.ok(seen.grandchildPid !== undefined && isProcessAlive(seen.grandchildPid))
  const outcome = await handle.abort()
  assert.equal(outcome.status, 'error:aborted')
  assert.equal(outcome.userMessage, 'Stopped.')
  assert.equal(isProcessAlive(seen.pid), false)
  assert.equal(isProcessAlive(seen.grandchildPid), false)
  assert.deepEqual(rig.registry.list(), [])
})

test('a CLI that ignores SIGTERM gets SIGKILL after the grace period', async (t) => {
  const rig = await createRig(t, 300)
  const { handle, recordFile } = rig.start({ prompt: '[[ignore-term]]' })
  const { pid } = await rig.recorded(recordFile)
  const started = Date.now()
  const outcome = await handle.abort()
  assert.ok(Date.now() - started >= 280, 'waited for the grace period')
  assert.equal(outcome.status, 'error:aborted')
  assert.equal(outcome.signal, 'SIGKILL')
  assert.equal(isProcessAlive(pid), false)
  assert.ok(rig.logs.some((l) => l.level === 40 && String(l.msg).includes('SIGKILL')))
})

test('children left behind after a normal exit are killed and do not hold the run open', async (t) => {
  const rig = await createRig(t, 200)
  const { handle, recordFile } = rig.start({ prompt: '[[grandchild]]' })
  const outcome = await handle.done
  assert.equal(outcome.status, 'success')
  const { grandchildPid } = await rig.recorded(recordFile)
  assert.ok(grandchildPid !== undefined)
  assert.equal(isProcessAlive(grandchildPid), false)
})

test('missing binary: cli_not_found with the install command', async (t) => {
  const rig = await createRig(t)
  const outcome = await rig.start({ argv: [join(rig.dir, 'nope', 'claude'), '-p'] }).handle.done
  assert.equal(outcome.status, 'error:cli_not_found_claude')
  assert.equal(outcome.userMessage, 'Claude Code CLI not found. Install it with `npm install -g @anthropic-ai/claude-code`')
  assert.equal(outcome.result, null)
  const codex = await rig.start({ provider: 'codex', argv: ['codex-does-not-exist', 'exec'] }).handle.done
  assert.equal(codex.status, 'error:cli_not_found_codex')
})

test('missing working directory: folder_missing, nothing spawned', async (t) => {
  const rig = await createRig(t)
  const outcome = await rig.start({ cwd: join(rig.dir, 'gone') }).handle.done
  assert.equal(outcome.status, 'error:folder_missing')
})

test('garbage and half lines are skipped (and logged) without losing the reply', async (t) => {
  const rig = await createRig(t)
  const { handle, events } = rig.start({ prompt: '[[garbage]]', env: { FAKE_CLI_REPLY: 'still fine' } })
  const outcome = await handle.done
  assert.equal(outcome.status, 'success')
  assert.equal(outcome.result?.text, 'still fine')
  assert.equal(textOf(events), 'still fine')
  assert.ok(rig.logs.some((l) => l.msg === 'skipped a malformed line from the CLI' && l.excerpt === 'this is not json {'))
})

test('crash mid-stream: exit_1 with the stderr reason, the partial result kept', async (t) => {
  const rig = await createRig(t)
  const outcome = await rig.start({ env: { FAKE_CLI_TRANSCRIPT: 'claude-partial.jsonl', FAKE_CLI_CRASH_AFTER: '5' } }).handle.done
  assert.equal(outcome.status, 'error:exit_1')
  assert.equal(outcome.userMessage, 'Claude Code failed (exit code 1): fake crash: something went badly wrong')
  assert.equal(outcome.result?.complete, false)
  assert.equal(outcome.result?.sessionId, '0864e9ea-9a8d-43aa-badf-3cc444945e38')
  assert.equal(outcome.result?.text, 'Hello from fake-anthropic. ')
})

test('API error transcript with exit 1 and a not-logged-in Codex', async (t) => {
  const rig = await createRig(t)
  const claude = await rig.start({ env: { FAKE_CLI_TRANSCRIPT: 'claude-error-529.jsonl', FAKE_CLI_EXIT_CODE: '1' } }).handle.done
  assert.equal(claude.status, 'error:exit_1')
  assert.match(claude.userMessage ?? '', /API Error: 529 Overloaded/)
  const codex = await rig.start({ provider: 'codex', env: { FAKE_CLI_TRANSCRIPT: 'codex-error-401.jsonl', FAKE_CLI_EXIT_CODE: '1' } }).handle.done
  assert.equal(codex.status, 'error:not_logged_in')
  assert.equal(codex.userMessage, 'Codex is not logged in: run `codex login`.')
})

test('big output streams through with flat memory; a flood of stderr keeps only its tail', async (t) => {
  const rig = await createRig(t)
  const baseline = process.memoryUsage().heapUsed
  let peak = baseline
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed) }, 10)
  t.after(() => clearInterval(sampler))
  let streamed = 0
  const onEvent = (e: CliEvent): void => { if (e.type === 'text') streamed += e.text.length }
  const { handle } = rig.start({ prompt: '[[big:40]]', env: { FAKE_CLI_STDERR_MB: '4' }, onEvent })
  const outcome = await handle.done
  clearInterval(sampler)
  assert.equal(outcome.status, 'success')
  assert.equal(outcome.result?.text, 'echo: [[big:40]]')
  assert.ok(streamed > 30_000_000, 'the filler was streamed as text')
  assert.ok(outcome.stderrTail.length <= 64 * 1024, `stderr tail is ${outcome.stderrTail.length} bytes`)
  assert.ok(peak - baseline < 25 * 1024 * 1024, `heap grew by ${Math.round((peak - baseline) / 1e6)} MB for 40 MB of output`)
})

test('20 aborts in a row leave no process behind', async (t) => {
  const rig = await createRig(t, 300)
  const pids: number[] = []
  for (let i = 0; i < 20; i++) {
    const { handle, recordFile } = rig.start({ prompt: i % 2 === 0 ? '[[hang]]' : '[[hang]] [[grandchild]]' })
    const seen = await rig.recorded(recordFile)
    pids.push(seen.pid, ...(seen.grandchildPid === undefined ? [] : [seen.grandchildPid]))
    assert.equal((await handle.abort()).status, 'error:aborted')
  }
  assert.deepEqual(rig.registry.list(), [])
  assert.deepEqual(pids.filter(isProcessAlive), [])
})

test('registry: abortChat stops only that chat, killAll stops the rest', async (t) => {
  const rig = await createRig(t)
  const a = rig.start({ prompt: '[[hang]]', chatId: 'a' })
  const b1 = rig.start({ prompt: '[[hang]]', chatId: 'b' })
  const b2 = rig.start({ prompt: '[[hang]]', chatId: 'b' })
  await Promise.all([a, b1, b2].map(async (r) => await rig.recorded(r.recordFile)))
  assert.deepEqual(rig.registry.list().map((p) => p.chatId).sort(), ['a', 'b', 'b'])
  assert.equal(await rig.registry.abortChat('b'), 2)
  assert.equal((await b1.handle.done).status, 'error:aborted')
  assert.deepEqual(rig.registry.list().map((p) => p.chatId), ['a'])
  assert.equal(await rig.registry.killAll(), 1)
  const last = await a.handle.done
  assert.equal(last.status, 'error:aborted')
  assert.equal(last.userMessage, 'Stopped: ductor is shutting down.')
  assert.deepEqual(rig.registry.list(), [])
})

test('bypassPermissions with the env from buildCliEnv runs (as root the fake, like claude, needs IS_SANDBOX=1)', async (t) => {
  const rig = await createRig(t)
  const isRoot = process.getuid?.() === 0
  const env = buildCliEnv({
    baseEnv: { PATH: process.env.PATH, HOME: rig.dir },
    provider: 'claude',
    permissionMode: 'bypassPermissions',
    ductorHome: join(rig.dir, '.ductor'),
    chatId: '42',
    apiUrl: 'http://127.0.0.1:8742',
    apiToken: 'secret',
    extraBinDir: join(rig.dir, 'bin'),
    isRoot
  })
  const argv = buildClaudeArgv({ binary: rig.bin.claude, prompt: 'go', model: 'opus', permissionMode: 'bypassPermissions' })
  const { handle, recordFile } = rig.start({ argv, env })
  assert.equal((await handle.done).status, 'success')
  const seen = await rig.recorded(recordFile)
  assert.equal(seen.env.DUCTOR_CHAT_ID, '42')
  assert.equal(seen.env.DUCTOR_API_URL, 'http://127.0.0.1:8742')
  assert.ok(seen.env.PATH?.startsWith(join(rig.dir, 'bin') + ':'))
  assert.equal(seen.env.IS_SANDBOX, isRoot ? '1' : undefined)
})

test('the fake codex, like clap, refuses a non-global flag after `resume`; the built argv avoids it', async (t) => {
  const rig = await createRig(t)
  const wrongOrder = [rig.bin.codex, 'exec', 'resume', 'th-1', '--json', '--color', 'never', '--', 'x']
  const refused = await rig.start({ provider: 'codex', argv: wrongOrder }).handle.done
  assert.equal(refused.status, 'error:exit_2')
  assert.match(refused.userMessage ?? '', /unexpected argument '--color'/)
  const built = buildCodexArgv({ binary: rig.bin.codex, prompt: 'x', permissionMode: 'default', resumeThreadId: 'th-1', cliParameters: ['--add-dir', rig.dir] })
  assert.equal((await rig.start({ provider: 'codex', argv: built }).handle.done).status, 'success')
})

test('DUCTOR_SPAWNER=0: spawned in this process, a run streams and a stop kills the whole group', async (t) => {
  const rig = await createRig(t, 300, { spawner: false })
  await rig.runner.ready() // execa loaded: from now on run() spawns before it returns
  const ok = await rig.start({ prompt: 'hi', env: { FAKE_CLI_REPLY: 'in process', FAKE_CLI_DELAY_MS: '1' } })
  assert.equal(typeof ok.handle.pid, 'number', 'the pid is known when run() returns')
  assert.equal((await ok.handle.done).result?.text, 'in process')
  const { handle, recordFile } = rig.start({ prompt: '[[hang]] [[grandchild]]' })
  const seen = await rig.recorded(recordFile)
  assert.equal((await handle.abort()).status, 'error:aborted')
  assert.equal(isProcessAlive(seen.pid), false)
  assert.equal(isProcessAlive(seen.grandchildPid ?? 0), false)
})

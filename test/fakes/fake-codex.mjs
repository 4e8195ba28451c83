#!/usr/bin/env node
// A fake `codex` for tests: checks its argv the way Codex 0.169's clap parser would, then
// replays a fixture transcript or a synthetic reply in the real `exec --json` schema
// (fixtures NOTES §3).
import { randomUUID } from 'node:crypto'
import { play, readOptions, readTranscript, runPromptTools } from './fake-cli-core.mjs'

const args = process.argv.slice(2)
const dashes = args.indexOf('--')
const flags = dashes === -1 ? args : args.slice(0, dashes)
const prompt = dashes === -1 ? (args.at(-1) ?? '') : args.slice(dashes + 1).join(' ')

function refuse (message, code = 2) {
  process.stderr.write(message + '\n')
  process.exit(code)
}

// `codex debug models` prints the model catalog of FAKE_CODEX_MODELS (a file, e.g. the recorded
// test/fixtures/cli/codex-debug-models.json); without it this fake is an older codex that has none.
// FAKE_CODEX_MODELS_STARTED (a file) gets this process's pid; FAKE_CODEX_MODELS_DELAY_MS makes it slow.
if (flags[0] === 'debug' && flags[1] === 'models' && process.env.FAKE_CODEX_MODELS) {
  const { readFileSync, writeFileSync } = await import('node:fs')
  if (process.env.FAKE_CODEX_MODELS_STARTED) writeFileSync(process.env.FAKE_CODEX_MODELS_STARTED, String(process.pid))
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.FAKE_CODEX_MODELS_DELAY_MS ?? 0)))
  process.stdout.write(readFileSync(process.env.FAKE_CODEX_MODELS, 'utf8'))
  process.exit(0)
}
if (flags[0] !== 'exec') refuse('fake codex: only `codex exec` is supported')
// After `resume`, clap accepts only the flags marked global, plus resume's own.
const GLOBAL = new Set(['--json', '--skip-git-repo-check', '--ephemeral', '--model', '-m', '-c', '--config',
  '--dangerously-bypass-approvals-and-sandbox', '-o', '--output-last-message',
  '--image', '-i', '--last', '--all'])
const TAKES_VALUE = new Set(['--model', '-m', '-c', '--config', '-o', '--output-last-message', '--image', '-i',
  '--color', '--sandbox', '-s', '--cd', '-C', '--add-dir', '--profile', '-p'])
let resumeAt = -1
for (let i = 1; i < flags.length; i++) {
  const flag = flags[i]
  if (resumeAt === -1 && flag === 'resume') { resumeAt = i; continue }
  if (resumeAt !== -1 && flag.startsWith('-') && !GLOBAL.has(flag)) {
    refuse(`error: unexpected argument '${flag}' found\n\nUsage: codex exec resume [OPTIONS] [SESSION_ID] [PROMPT]`)
  }
  if (TAKES_VALUE.has(flag)) i++
}
if (!flags.includes('--json')) refuse('fake codex: only --json output is supported')
// Codex 0.169.0 removed --full-auto (exit 2, "unexpected argument").
if (flags.includes('--full-auto')) refuse("error: unexpected argument '--full-auto' found", 2)
if (flags.includes('--sandbox') && flags.includes('--dangerously-bypass-approvals-and-sandbox')) {
  refuse("error: the argument '--sandbox <SANDBOX_MODE>' cannot be used with '--dangerously-bypass-approvals-and-sandbox'", 2)
}
const resumeId = resumeAt === -1 ? undefined : flags[resumeAt + 1]
if (resumeAt !== -1 && (resumeId === undefined || resumeId.startsWith('-'))) refuse('fake codex: resume needs a thread id')

const options = readOptions(prompt)
const threadId = resumeId ?? randomUUID()
const reply = options.reply ?? (options.runTools ? runPromptTools(prompt) : null) ?? `echo: ${prompt}`

const line = (value) => JSON.stringify(value)

function synthetic () {
  return [
    line({ type: 'thread.started', thread_id: threadId }),
    line({ type: 'turn.started' }),
    line({ type: 'item.completed', item: { id: 'item_0', type: 'agent_message', text: reply } }),
    line({
      type: 'turn.completed',
      usage: { input_tokens: 200, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 20, reasoning_output_tokens: 0 }
    })
  ]
}

/** A fixture, with its thread id replaced by the one being resumed. */
function replay (name) {
  return readTranscript(name).map((text) => {
    if (resumeId === undefined || !text.includes('"thread.started"')) return text
    return line({ type: 'thread.started', thread_id: resumeId })
  })
}

// Filler for [[big]]: finished commands with about 1 KB of output each.
const output = 'lorem ipsum dolor sit amet '.repeat(38)
const bigLine = (i) => line({
  type: 'item.completed',
  item: { id: `item_big_${i}`, type: 'command_execution', command: "/bin/bash -lc 'cat lorem.txt'", aggregated_output: output, exit_code: 0, status: 'completed' }
})

process.stderr.write('Reading additional input from stdin...\n')
await play(options.transcript === undefined ? synthetic() : replay(options.transcript), options, bigLine)

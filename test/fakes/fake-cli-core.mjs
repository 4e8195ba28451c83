// Shared machinery of the fake `claude` and `codex` executables used by tests.
// Behaviour is chosen by environment variables, or by markers in the prompt such as
// `[[hang]]`, `[[crash:3]]` or `[[transcript:claude-partial.jsonl]]` (a marker wins over the
// variable). See test/fakes/README.md for the list.
import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'cli')

const MARKER = /\[\[([a-z-]+)(?::([^\]]*))?\]\]/g

/** Options from FAKE_CLI_* variables, overridden by [[marker]]s in the prompt. */
export function readOptions (prompt, env = process.env) {
  const o = {
    transcript: env.FAKE_CLI_TRANSCRIPT,
    reply: env.FAKE_CLI_REPLY,
    delayMs: Number(env.FAKE_CLI_DELAY_MS ?? 0),
    hang: env.FAKE_CLI_HANG === '1',
    crashAfter: env.FAKE_CLI_CRASH_AFTER === undefined ? undefined : Number(env.FAKE_CLI_CRASH_AFTER),
    exitCode: env.FAKE_CLI_EXIT_CODE === undefined ? undefined : Number(env.FAKE_CLI_EXIT_CODE),
    stderr: env.FAKE_CLI_STDERR,
    garbage: env.FAKE_CLI_GARBAGE === '1',
    bigMb: Number(env.FAKE_CLI_BIG_MB ?? 0),
    stderrMb: Number(env.FAKE_CLI_STDERR_MB ?? 0),
    ignoreTerm: env.FAKE_CLI_IGNORE_TERM === '1',
    grandchild: env.FAKE_CLI_GRANDCHILD === '1',
    record: env.FAKE_CLI_RECORD,
    recordDir: env.FAKE_CLI_RECORD_DIR,
    sigkillOnce: env.FAKE_CLI_SIGKILL_ONCE,
    hangOnce: undefined,
    retryTranscript: undefined,
    ended: env.FAKE_CLI_ENDED,
    stderrEnv: undefined,
    runTools: env.FAKE_CLI_RUN_TOOLS === '1',
    ask: env.FAKE_CLI_ASK
  }
  for (const [, name, value] of prompt.matchAll(MARKER)) {
    switch (name) {
      case 'transcript': o.transcript = value; break
      case 'reply': o.reply = value; break
      case 'reply-env': o.reply = `${value}=${env[value] ?? ''}`; break
      case 'reply-journal': o.reply = journalMarks(value, env); break
      case 'delay': o.delayMs = Number(value); break
      case 'hang': o.hang = true; break
      case 'crash': o.crashAfter = Number(value ?? 1); break
      case 'exit': o.exitCode = Number(value ?? 1); break
      case 'stderr': o.stderr = value; break
      case 'garbage': o.garbage = true; break
      case 'big': o.bigMb = Number(value ?? 1); break
      case 'ignore-term': o.ignoreTerm = true; break
      case 'grandchild': o.grandchild = true; break
      case 'stderr-env': o.stderrEnv = value; break
      case 'ended': o.ended = value; break
      case 'run-tools': o.runTools = true; break
      case 'ask': o.ask = value; break
      case 'hang-once': o.hangOnce = value; break
      case 'retry-transcript': o.retryTranscript = value; break
    }
  }
  // The run after the hung one (its file exists) plays another transcript: a retry says something else.
  if (o.hangOnce !== undefined && o.retryTranscript !== undefined && existsSync(o.hangOnce)) o.transcript = o.retryTranscript
  return o
}

/**
 * `[[reply-journal:TOKEN]]`: at the moment this CLI starts, how many of the durable inbox's entries
 * that mention TOKEN already have their done mark ($DUCTOR_HOME/state/inbox.jsonl): `journal TOKEN 2/3`.
 */
function journalMarks (token, env) {
  let text = ''
  try { text = readFileSync(join(env.DUCTOR_HOME ?? '', 'state', 'inbox.jsonl'), 'utf8') } catch {}
  const lines = text.split('\n').filter((l) => l !== '')
  // A done record marks `seq` and, for an album's run, every seq in `also` (ADR 35).
  const done = new Set(lines.map((l) => JSON.parse(l)).filter((r) => r.t === 'd').flatMap((r) => [r.seq, ...(r.also ?? [])]))
  const entries = lines.filter((l) => l.includes(token)).map((l) => JSON.parse(l)).filter((r) => r.t === 'e')
  return `journal ${token} ${entries.filter((r) => done.has(r.seq)).length}/${entries.length}`
}

/**
 * Writes what the fake was started with, so a test can assert argv, cwd and env. Whole or not at
 * all (written aside, then renamed into place): a fake stopped mid-write leaves no empty record
 * for a test to trip over, and a record that is there is complete.
 */
export function record (options, extra = {}) {
  const targets = [options.record, options.recordDir ? join(options.recordDir, `${process.pid}.json`) : undefined]
  for (const target of targets) {
    if (target === undefined || target === '') continue
    const text = JSON.stringify({
      argv: process.argv.slice(2),
      cwd: process.cwd(),
      env: process.env,
      pid: process.pid,
      ...extra
    })
    const aside = join(tmpdir(), `ductor-fake-cli-record-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`)
    writeFileSync(aside, text)
    try {
      renameSync(aside, target)
    } catch {
      // Another file system: written in place then.
      writeFileSync(target, text)
      rmSync(aside, { force: true })
    }
  }
}

/** Lines of a fixture transcript (a name in test/fixtures/cli or an absolute path). */
export function readTranscript (name) {
  const path = isAbsolute(name) ? name : join(FIXTURES, name)
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '')
}

/** A background process that ignores SIGTERM and holds our stdout open (like a dev server). */
export function startGrandchild () {
  const child = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1e9)'], {
    stdio: ['ignore', 'inherit', 'inherit']
  })
  child.unref()
  return child.pid
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function write (stream, text) {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve()
    else stream.once('drain', resolve)
  })
}

/**
 * Plays `lines` on stdout with the configured timing and misbehaviour, then exits.
 * `bigLine(i)` makes filler lines for `bigMb`; they go before the last line.
 */
export async function play (lines, options, bigLine) {
  if (options.ignoreTerm) process.on('SIGTERM', () => {})
  if (options.grandchild) {
    const pid = startGrandchild()
    record(options, { grandchildPid: pid })
  } else {
    record(options)
  }
  if (options.stderrMb > 0) {
    const chunk = 'stderr filler line that nobody needs to read again\n'.repeat(1024)
    for (let sent = 0; sent < options.stderrMb * 1024 * 1024; sent += chunk.length) await write(process.stderr, chunk)
  }
  const all = [...lines]
  if (options.bigMb > 0 && all.length > 0) {
    const filler = []
    let bytes = 0
    for (let i = 0; bytes < options.bigMb * 1024 * 1024; i++) {
      const line = bigLine(i)
      filler.push(line)
      bytes += line.length + 1
    }
    all.splice(all.length - 1, 0, ...filler)
  }
  let count = 0
  for (const line of all) {
    if (options.hang && count === 1) break
    if (count === 1 && options.sigkillOnce !== undefined && !existsSync(options.sigkillOnce)) {
      // Like the kernel's OOM killer: SIGKILL from outside ductor, once (the marker file remembers).
      writeFileSync(options.sigkillOnce, 'killed')
      process.kill(process.pid, 'SIGKILL')
    }
    if (count === all.length - 1 && options.hangOnce !== undefined && !existsSync(options.hangOnce)) {
      // Everything but the result is out: the pid goes to the file (for the test to kill it), and this run hangs.
      writeFileSync(options.hangOnce, String(process.pid))
      setInterval(() => {}, 1e9)
      return
    }
    if (options.crashAfter !== undefined && count >= options.crashAfter) {
      await write(process.stderr, 'fake crash: something went badly wrong\n')
      process.exit(1)
    }
    // The moment the last line (the result) goes out: what "after the CLI's end" is measured from.
    if (count === all.length - 1 && options.ended !== undefined) appendFileSync(options.ended, `${Date.now()}\n`)
    if (options.garbage) {
      await write(process.stdout, 'this is not json {\n')
      const half = Math.floor(line.length / 2)
      await write(process.stdout, line.slice(0, half))
      await sleep(1)
      await write(process.stdout, line.slice(half) + '\n')
    } else {
      await write(process.stdout, line + '\n')
    }
    count++
    if (options.delayMs > 0) await sleep(options.delayMs)
  }
  if (options.hang || options.ignoreTerm) {
    setInterval(() => {}, 1e9)
    return
  }
  if (options.stderr !== undefined) await write(process.stderr, options.stderr + '\n')
  if (options.stderrEnv !== undefined) await write(process.stderr, `${options.stderrEnv}=${process.env[options.stderrEnv] ?? ''}\n`)
  process.exitCode = options.exitCode ?? 0
}

/**
 * `[[run-tools]]`: the fake agent does what the prompt tells it to run (`[To understand it, run: …]`,
 * the hint ductor gives with a received file) through `sh -c`, like a real agent's shell tool, and
 * its reply is the prompt followed by what each command printed. Without such hints: null.
 */
export function runPromptTools (prompt) {
  const commands = [...prompt.matchAll(/\[To understand it, run: (ductor [^\]\n]+)\]/g)].map((m) => m[1])
  if (commands.length === 0) return null
  const outputs = commands.map((command) => {
    const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 120_000 })
    return `$ ${command}\n${r.stdout}${r.stderr}`
  })
  return `echo: ${prompt}\n${outputs.join('\n')}`
}

// The sh supervisor of `ductor serve` (bin/ductor-supervise.sh, ADR 46, policy of ADR 19 and 43),
// run as bin/ductor runs it, around a fake service (a sh script that exits with the codes it is
// given) and fake `sleep` and `date` on PATH: the whole policy in a second, with its messages, the
// clean-up after each exit, the environment the service gets, stdin, and stop signals at each stage.
// The real service under it: test/faults/signals.test.ts, kill-rounds, second-instance, supervisor.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT, tempDir, waitFor, type Cleanup } from '../helper.ts'
import { SERVICE_MALLOC_ARENA_MAX } from '../../src/cli/supervise.ts'

const SCRIPT = join(ROOT, 'bin', 'ductor-supervise.sh')
// This machine's /bin/sh, and bash in its POSIX mode (macOS's /bin/sh) when it is installed.
const SHELLS: string[][] = [['/bin/sh'], ...(existsSync('/bin/bash') ? [['/bin/bash', '--posix']] : [])]

// The fake service: each start takes the next step ("<exit code> <clock>", or "hold <clock>": run
// until a signal, then exit 3) and logs what it got; the clean-up run (DUCTOR_END_CLIS=1) logs itself.
const FAKE_SERVICE = `#!/bin/sh
if [ "\${DUCTOR_END_CLIS:-}" = 1 ]; then echo cleanup >> "$LOG"; exit 0; fi
read -r input || input=
echo "start supervised=\${DUCTOR_SUPERVISED-} arena=\${MALLOC_ARENA_MAX-unset} mark=\${DUCTOR_SET_MALLOC_ARENA_MAX-unset} stdin=$input args=$*" >> "$LOG"
set -- $(head -n 1 "$STEPS")
tail -n +2 "$STEPS" > "$STEPS.next"; mv "$STEPS.next" "$STEPS"
echo "$2" > "$CLOCK"
if [ "$1" = hold ]; then
  trap 'echo "got TERM" >> "$LOG"; exit 3' TERM
  echo held >> "$LOG"
  while :; do /bin/sleep 0.05; done
fi
exit "$1"
`
const FAKE_DATE = '#!/bin/sh\ncat "$CLOCK"\n'
// The backoff: logged, and over at once unless SLEEP_HOLDS (then it waits to be stopped).
const FAKE_SLEEP = '#!/bin/sh\necho "sleep $1" >> "$LOG"\nif [ -n "$SLEEP_HOLDS" ]; then exec /bin/sleep 30; fi\n'

interface Run {
  code: Promise<number>
  stderr: () => string
  log: () => Promise<string[]>
  pid: number
}

async function supervise (t: Cleanup, shell: string[], steps: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const dir = await tempDir(t)
  for (const [name, text] of [['service', FAKE_SERVICE], ['date', FAKE_DATE], ['sleep', FAKE_SLEEP]] as const) {
    await writeFile(join(dir, name), text)
    await chmod(join(dir, name), 0o755)
  }
  const log = join(dir, 'log')
  await writeFile(log, '')
  await writeFile(join(dir, 'steps'), steps.map((s) => `${s}\n`).join(''))
  await writeFile(join(dir, 'clock'), '0\n')
  const base: NodeJS.ProcessEnv = { ...process.env }
  delete base['MALLOC_ARENA_MAX']
  const child = spawn(shell[0] ?? '', [...shell.slice(1), SCRIPT, '--loop', join(dir, 'service'), 'serve', '--no-supervisor'], {
    env: { ...base, PATH: `${dir}:${process.env['PATH'] ?? ''}`, LOG: log, STEPS: join(dir, 'steps'), CLOCK: join(dir, 'clock'), ...env },
    stdio: ['pipe', 'ignore', 'pipe']
  })
  child.stdin.end('hello\n')
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = new Promise<number>((resolve) => child.once('close', (c, s) => resolve(c ?? (s === null ? -1 : 128))))
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await code
  })
  return { code, stderr: () => stderr, log: async () => (await readFile(log, 'utf8')).trim().split('\n').filter((l) => l !== ''), pid: child.pid as number }
}

const START = `start supervised=1 arena=${SERVICE_MALLOC_ARENA_MAX} mark=1`

for (const shell of SHELLS) {
  test(`${shell.join(' ')}: crashes back off 1, 2, 4, 8 s, 42 restarts at once, the 5th crash within 5 minutes gives up; the CLIs are ended after every exit`, async (t) => {
    const run = await supervise(t, shell, ['1 1000', '137 1010', '42 1020', '1 1030', '1 1040', '1 1050'])
    assert.equal(await run.code, 1, 'gives up with the child\'s code')
    assert.deepEqual(await run.log(), [
      `${START} stdin=hello args=serve --no-supervisor`, 'cleanup', 'sleep 1',
      `${START} stdin= args=serve --no-supervisor`, 'cleanup', 'sleep 2',
      `${START} stdin= args=serve --no-supervisor`, 'cleanup',
      `${START} stdin= args=serve --no-supervisor`, 'cleanup', 'sleep 4',
      `${START} stdin= args=serve --no-supervisor`, 'cleanup', 'sleep 8',
      `${START} stdin= args=serve --no-supervisor`, 'cleanup'
    ], 'the service had the supervisor\'s stdin, DUCTOR_SUPERVISED=1 and MALLOC_ARENA_MAX with its mark')
    const lines = run.stderr().trim().split('\n')
    assert.match(lines[0] ?? '', /^ductor: the service \(pid \d+\) ended unexpectedly with exit code 1; restarting it in 1 s \(crash 1 of at most 4 within 5 minutes\)$/)
    assert.match(lines[1] ?? '', /^ductor: the service \(pid \d+\) ended unexpectedly with signal SIGKILL; restarting it in 2 s \(crash 2 of at most 4 within 5 minutes\)$/)
    assert.equal(lines[2], 'ductor: restarting')
    assert.match(lines[5] ?? '', /^ductor: the service \(pid \d+\) ended with exit code 1, its 5th crash within 5 minutes: giving up \(see the log in logs\/\)$/)
    assert.equal(lines.length, 6)
  })

  test(`${shell.join(' ')}: crashes older than 5 minutes are forgotten; exit 0 ends the supervisor with 0`, async (t) => {
    const run = await supervise(t, shell, ['1 1000', '1 1100', '1 1200', '1 1299', '1 1350', '0 1360'])
    assert.equal(await run.code, 0)
    // At 1350 the crashes at 1000 (350 s ago) is out of the window: the 4th within it, not the 5th.
    assert.deepEqual((await run.log()).filter((l) => l.startsWith('sleep')), ['sleep 1', 'sleep 2', 'sleep 4', 'sleep 8', 'sleep 8'])
  })

  test(`${shell.join(' ')}: exit 2 (a config error) ends it with 2 after the clean-up; exit 75 (another ductor on the home) with 75 and no clean-up`, async (t) => {
    const config = await supervise(t, shell, ['2 1000'])
    assert.equal(await config.code, 2)
    assert.deepEqual((await config.log()).slice(1), ['cleanup'])
    assert.equal(config.stderr(), '')
    const other = await supervise(t, shell, ['75 1000'])
    assert.equal(await other.code, 75)
    assert.deepEqual((await other.log()).slice(1), [], 'the CLIs recorded in the home are the other ductor\'s: nothing ends them')
  })

  test(`${shell.join(' ')}: the user's own MALLOC_ARENA_MAX wins and gets no mark (the service keeps it for its CLIs)`, async (t) => {
    const run = await supervise(t, shell, ['0 1000'], { MALLOC_ARENA_MAX: '8' })
    assert.equal(await run.code, 0)
    assert.match((await run.log())[0] ?? '', /^start supervised=1 arena=8 mark=unset /)
  })

  test(`${shell.join(' ')}: SIGTERM to the supervisor reaches the service once and ends the supervisor with the service's code, after the clean-up`, async (t) => {
    const run = await supervise(t, shell, ['hold 1000'])
    await waitFor(async () => (await run.log()).includes('held') ? true : undefined, 10_000, 'the service to run')
    process.kill(run.pid, 'SIGTERM')
    assert.equal(await run.code, 3, 'the service\'s own code, no restart')
    assert.deepEqual((await run.log()).slice(1), ['held', 'got TERM', 'cleanup'])
  })

  test(`${shell.join(' ')}: a stop signal during the backoff ends the supervisor with 0 without starting the service again`, async (t) => {
    const run = await supervise(t, shell, ['1 1000', '0 1001'], { SLEEP_HOLDS: '1' })
    await waitFor(async () => (await run.log()).includes('sleep 1') ? true : undefined, 10_000, 'the backoff')
    process.kill(run.pid, 'SIGHUP')
    assert.equal(await run.code, 0)
    assert.deepEqual((await run.log()).slice(1), ['cleanup', 'sleep 1'])
  })
}

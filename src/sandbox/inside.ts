/**
 * A CLI run inside the sandbox container, as the `docker` CLI sees it (ADR 0021).
 *
 * `docker exec` does not forward signals, and killing the host's `docker exec` client leaves the
 * process inside running. So every run starts inside under a small `sh` wrapper that starts the CLI
 * in a new session (`setsid`: it leads its own process group there), writes that group's id to
 * `/tmp/.ductor-runs/<run>` in the container, waits for it, kills what is left of the group when
 * it ends, and removes the file. Stopping a run is `docker exec <container> kill -<SIG> -- -<pgid>`
 * with the pgid read from that file; the next start of the service does the same for every run the
 * CLI-group records (src/store/cli-groups.ts) say a killed service left behind.
 */
import { execFile } from 'node:child_process'

/** Where the wrapper writes each run's process group id, inside the container (its own /tmp). */
export const RUNS_DIR = '/tmp/.ductor-runs'

/** `sh -c WRAPPER ductor-run <run> <argv…>`. */
export const WRAPPER = `d=${RUNS_DIR}; mkdir -p "$d" || exit 125; f="$d/$1"; shift
: > "$f"
setsid "$@" & p=$!
echo "$p" > "$f"
wait "$p"; rc=$?
kill -s KILL -- "-$p" 2>/dev/null
rm -f "$f"
exit "$rc"`

/**
 * `sh -c SIGNAL ductor-kill <run> <SIG>`. No file: the run is over (or its wrapper has not started:
 * the runner's SIGKILL after the grace period comes back for it). An empty file: the run has just
 * started; wait briefly for the id.
 */
const SIGNAL = `f=${RUNS_DIR}/$1; i=0
[ -e "$f" ] || exit 0
while [ ! -s "$f" ] && [ "$i" -lt 50 ]; do sleep 0.02; i=$((i+1)); done
[ -s "$f" ] && kill -s "$2" -- "-$(cat "$f")" 2>/dev/null && echo signalled
[ "$2" = KILL ] && rm -f "$f"
exit 0`

/** What the CLI-group record of a sandboxed run holds (enough to end it from a later life of the service). */
export interface InsideRun {
  docker: string
  container: string
  run: string
}

/** A run id as a file name in RUNS_DIR. */
export function runFileName (runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_')
}

/**
 * Sends `signal` to the process group of `run` inside its container; true when there was one to
 * signal. Rejects when docker fails or takes over `timeoutMs`. `env`: the docker client's (the run's).
 */
export async function signalInside (run: InsideRun, signal: 'TERM' | 'KILL', timeoutMs = 10_000, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return await new Promise<boolean>((resolve, reject) => {
    execFile(run.docker, ['exec', run.container, 'sh', '-c', SIGNAL, 'ductor-kill', runFileName(run.run), signal], { timeout: timeoutMs, env }, (err, stdout, stderr) => {
      if (err === null) resolve(String(stdout).includes('signalled'))
      else reject(new Error(`docker exec ${run.container} kill -${signal} failed: ${String(stderr).trim() || err.message}`))
    })
  })
}

#!/usr/bin/env node
// ductor's CLI spawner (ADR 0032): a small process the service starts once, over an IPC channel, so
// that the fork/exec wait of every CLI spawn blocks this process's event loop, not the service's.
//
// For each `spawn` request it starts the command (the runner's start gate, `sh -c …`) in its own
// process group, lowers its priority, and sends back its pid, then the read ends of its stdout and
// stderr pipes themselves (`process.send(message, socket)`): the service reads the CLI's output
// directly, nothing of it passes through here. The gate holds the CLI until the service says `go`
// (once its process group is recorded), so nothing is written to the pipes before they are handed
// over. When the CLI exits, its exit code and signal go back to the service.
//
// Its life is tied to the service's: when the IPC channel or its stdin (a pipe from the service)
// closes (the service exited or was killed) it kills (SIGKILL) the process group of every CLI it
// started and exits. Terminal signals do not
// reach it (it leads its own session); the service ends it by closing the channel.
//
// On Linux the CLIs stay in this process's session, each still leading its own process group
// (ADR 0038): with scheduler autogroups on (the default of most distributions), a session is weighed
// as one against every other session, whatever the nice values inside it, so 50 CLIs in 50 sessions
// of their own took 50 shares of the CPU to the service's one. Together in this session they weigh
// as one, and their nice 10 orders them below this process. Node makes a new group only with a new
// session (`detached`), so the group is made by perl's setpgrp (present on nearly every Linux);
// without perl each CLI gets a session of its own, as before.
//
// Plain Node, no dependencies, nothing logged: a request holds the CLI's environment (secrets).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { setPriority } from 'node:os'

/** id → the child process (until its exit has been reported). */
const children = new Map()

function send (message, handle) {
  if (process.connected !== true) return
  try {
    process.send(message, handle, (err) => { if (err && handle !== undefined) handle.destroy() })
  } catch {}
}

function killAll () {
  for (const child of children.values()) {
    try { process.kill(-child.pid, 'SIGKILL') } catch {}
    try { process.kill(child.pid, 'SIGKILL') } catch {}
  }
}

const PERL = process.platform === 'linux' ? ['/usr/bin/perl', '/bin/perl', '/usr/local/bin/perl'].find((p) => existsSync(p)) : undefined
// `perl -e NEW_GROUP -- <n> [NAME VALUE]… file args…`: restores the n PERL* variables it was started
// without (so the user's PERL5OPT or PERL5LIB cannot change this one-liner), leads a new process group
// in this session, closes fd 3 (the spawner's sign that the group exists) and execs the command
// (same pid: the pid sent back is the group's id).
const NEW_GROUP = 'my $n = shift; for (1 .. $n) { my ($k, $v) = splice(@ARGV, 0, 2); $ENV{$k} = $v } ' +
  'setpgrp(0, 0) or exit 126; open(my $ready, ">&=", 3) and close($ready); exec { $ARGV[0] } @ARGV; exit 127'

/** The child's argv and environment: through perl's setpgrp, or alone in a new session. */
function command (m) {
  if (PERL === undefined) return { file: m.file, args: m.args, env: m.env, detached: true }
  const env = {}
  const kept = []
  for (const [name, value] of Object.entries(m.env ?? {})) {
    if (name.startsWith('PERL')) kept.push(name, value)
    else env[name] = value
  }
  return { file: PERL, args: ['-e', NEW_GROUP, '--', String(kept.length / 2), ...kept, m.file, ...m.args], env, detached: false }
}

function start (m) {
  let child
  const c = command(m)
  try {
    child = spawn(c.file, c.args, { cwd: m.cwd, env: c.env, stdio: c.detached ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe'], detached: c.detached })
  } catch (err) {
    send({ t: 'error', id: m.id, code: err?.code ?? 'spawn' })
    return
  }
  if (child.pid === undefined) {
    child.once('error', (err) => { send({ t: 'error', id: m.id, code: err?.code ?? 'spawn' }) })
    return
  }
  children.set(m.id, child)
  child.on('error', () => {})
  child.stdin.on('error', () => {})
  if (typeof m.nice === 'number') {
    try { setPriority(child.pid, m.nice) } catch {}
  }
  // Through perl, the child leads its group only once perl has run setpgrp: it says so by closing
  // fd 3. Until then the pid is not sent, so no one can signal a group that does not exist yet.
  const ready = c.detached
    ? Promise.resolve()
    : new Promise((resolve) => {
      const fd3 = child.stdio[3]
      fd3.on('error', () => {})
      fd3.on('data', () => {})
      fd3.once('close', resolve)
    })
  child.once('exit', (code, signal) => {
    ready.then(() => {
      children.delete(m.id)
      send({ t: 'exit', id: m.id, code, signal })
    })
  })
  ready.then(() => {
    send({ t: 'spawned', id: m.id, pid: child.pid })
    send({ t: 'stdout', id: m.id }, child.stdout)
    send({ t: 'stderr', id: m.id }, child.stderr)
  })
}

process.on('message', (m) => {
  if (m === null || typeof m !== 'object') return
  if (m.t === 'spawn') start(m)
  else if (m.t === 'go') children.get(m.id)?.stdin.end('go\n')
  else if (m.t === 'cancel') children.get(m.id)?.stdin.destroy()
})

// The service is gone (exited, killed, or done with us): nothing it started may outlive it.
function gone () {
  killAll()
  process.exit(0)
}
process.on('disconnect', gone)
// Its end of our stdin closes when it exits, however it died. The IPC channel alone is not enough:
// killed while a pipe handle it was sent awaited its acknowledgement, Node closes the channel but
// never reports the disconnect (it waits for that acknowledgement), and this process and its CLIs
// would live on.
process.stdin.on('end', gone).on('error', gone).resume()
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {})
// Started by the service with an IPC channel only; run by hand it has nothing to do.
if (process.send === undefined) process.exit(2)

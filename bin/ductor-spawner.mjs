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
// Plain Node, no dependencies, nothing logged: a request holds the CLI's environment (secrets).
import { spawn } from 'node:child_process'
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
  }
}

function start (m) {
  let child
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
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
  child.once('exit', (code, signal) => {
    children.delete(m.id)
    send({ t: 'exit', id: m.id, code, signal })
  })
  send({ t: 'spawned', id: m.id, pid: child.pid })
  send({ t: 'stdout', id: m.id }, child.stdout)
  send({ t: 'stderr', id: m.id }, child.stderr)
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

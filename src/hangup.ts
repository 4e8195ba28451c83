import { closeSync } from 'node:fs'

/**
 * After SIGHUP (the terminal was closed) a Node 20 process must not exit with the terminal still on
 * its fds 0–2: at exit Node restores the terminal's saved mode (ResetStdio), tcsetattr fails with EIO
 * on the hung-up terminal, an internal CHECK aborts (SIGABRT, sometimes SIGSEGV), and with a
 * SIGSEGV handler installed the process spins forever (issue 14). Closing the three fds first makes
 * Node skip them (`fstat` → EBADF). Call it right before exiting, after the last log line.
 */
export function releaseHungUpTerminal (): void {
  for (const fd of [0, 1, 2]) {
    try { closeSync(fd) } catch {}
  }
}

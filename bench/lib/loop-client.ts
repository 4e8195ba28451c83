import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const LOOP_MONITOR = fileURLToPath(new URL('./loop-monitor.mjs', import.meta.url))

export interface LoopDelay { p50: number, p99: number, max: number, mean: number, count: number, processCpuMs: number, cpuMs?: number, waitMs?: number, slices?: number }

/** Asks a child started with `--import LOOP_MONITOR` and an IPC channel; resolves with its answer. */
export async function askLoop (child: ChildProcess, message: 'reset'): Promise<void>
export async function askLoop (child: ChildProcess, message: 'read'): Promise<LoopDelay>
export async function askLoop (child: ChildProcess, message: 'reset' | 'read'): Promise<LoopDelay | void> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no answer to ${message}`)) }, 10_000)
    child.once('message', (answer: LoopDelay & { reset?: boolean }) => {
      clearTimeout(timer)
      if (answer.reset === true) resolve()
      else resolve(answer)
    })
    child.send(message)
  })
}

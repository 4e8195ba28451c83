// Preloaded into a measured process (`node --import bench/lib/loop-monitor.mjs …`, started with an
// IPC channel): samples the event-loop delay with perf_hooks and answers the parent's messages
// 'reset' and 'read' (milliseconds). Plain JS so the compiled service runs without tsx.
//
// With the delay it reports, for the same window, how the main thread's time split (Linux
// /proc/self/task/<pid>/schedstat): `cpuMs` on a CPU (the loop busy with the process's own work, GC
// included), `waitMs` runnable but waiting for a CPU (the scheduler's doing, not the process's), and
// the process's CPU time in all threads (`processCpuMs`, process.cpuUsage).
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const histogram = monitorEventLoopDelay({ resolution: 5 })
histogram.enable()

/** [on-CPU ns, run-queue wait ns, time slices] of the main thread, or null off Linux. */
function schedstat () {
  try {
    return readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(' ').map(Number)
  } catch {
    return null
  }
}

let since = { sched: schedstat(), cpu: process.cpuUsage() }

if (process.send !== undefined) {
  process.on('message', (message) => {
    if (message === 'reset') {
      histogram.reset()
      since = { sched: schedstat(), cpu: process.cpuUsage() }
      process.send?.({ reset: true })
    } else if (message === 'read') {
      const ms = (ns) => ns / 1e6
      const sched = schedstat()
      const cpu = process.cpuUsage(since.cpu)
      const split = sched !== null && since.sched !== null
        ? { cpuMs: ms(sched[0] - since.sched[0]), waitMs: ms(sched[1] - since.sched[1]), slices: sched[2] - since.sched[2] }
        : {}
      process.send?.({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), mean: ms(histogram.mean), count: histogram.count, processCpuMs: (cpu.user + cpu.system) / 1000, ...split })
    }
  })
  // The channel must not keep the process alive: it exits as it would without the monitor.
  process.channel?.unref()
}

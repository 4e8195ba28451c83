// Preloaded into a measured process (`node --import bench/lib/loop-monitor.mjs …`, started with an
// IPC channel): samples the event-loop delay with perf_hooks and answers the parent's messages
// 'reset' and 'read' (milliseconds). Plain JS so the compiled service runs without tsx.
import { monitorEventLoopDelay } from 'node:perf_hooks'

const histogram = monitorEventLoopDelay({ resolution: 5 })
histogram.enable()

if (process.send !== undefined) {
  process.on('message', (message) => {
    if (message === 'reset') {
      histogram.reset()
      process.send?.({ reset: true })
    } else if (message === 'read') {
      const ms = (ns) => ns / 1e6
      process.send?.({ p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), mean: ms(histogram.mean), count: histogram.count })
    }
  })
  // The channel must not keep the process alive: it exits as it would without the monitor.
  process.channel?.unref()
}

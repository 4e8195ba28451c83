// P7: many cron jobs. (1) Start → /health 200 of the compiled service with 100 / 1k / 10k jobs in
// cron_jobs.json against the same start with none (the baseline). (2) The scheduler's tick, in this
// process with the real cron store and planner and a stub task runner: the first tick (plans every
// job), then ten simulated minutes of one tick a second (jobs fire, their results are written back
// to cron_jobs.json, the file is checked for hand edits every 5 s), against the same ticks with no jobs.
// Run alone: node --import tsx bench/cron.ts
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import { createCronPlanner } from '../src/automation/cron-planner.ts'
import { createCronStore } from '../src/automation/cron-store.ts'
import { createAutomationScheduler } from '../src/automation/scheduler.ts'
import type { TaskRunResult } from '../src/automation/task-run-types.ts'
import { completeConfig } from '../src/config.ts'
import { emptyResult, output, progress, type BenchResult } from './lib/report.ts'
import { buildPackage, startService, tempHome } from './lib/service.ts'
import { median, quantile } from './lib/stats.ts'

const COUNTS = [0, 100, 1_000, 10_000]
const START_RUNS = 2
/** Start-up is measured for these (a start costs seconds on a loaded machine; 100 jobs adds nothing visible). */
const START_COUNTS = [0, 1_000, 10_000]
const SIM_SECONDS = 600

/**
 * `n` jobs: most daily at spread-out times, one in ten every 5–14 minutes; in UTC or the user's zone.
 * `avoidHour` keeps daily jobs out of the next hours (so the real service started below runs none).
 */
function jobs (n: number, avoidHour?: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => {
    const hour = avoidHour === undefined ? Math.floor(i / 60) % 24 : (avoidHour + 3 + (i % 18)) % 24
    const frequent = i % 10 === 0 && avoidHour === undefined
    return {
      id: `job-${i}`,
      title: `Job ${i}`,
      description: 'a benchmark job',
      schedule: frequent ? `*/${5 + (i % 10)} * * * *` : `${i % 60} ${hour} * * ${i % 7 === 0 ? '1-5' : '*'}`,
      task_folder: `job-${i}`,
      agent_instruction: 'Read TASK_DESCRIPTION.md and do the task.',
      enabled: true,
      timezone: i % 2 === 0 ? 'UTC' : '',
      created_at: '2026-01-01T00:00:00.000Z',
      last_run_at: null,
      last_run_status: null,
      provider: null,
      model: null,
      reasoning_effort: null,
      cli_parameters: [],
      quiet_start: null,
      quiet_end: null,
      dependency: null
    }
  })
}

async function startTimes (counts: number[]): Promise<Map<number, number>> {
  const pkg = await buildPackage()
  const times = new Map<number, number[]>(counts.map((n) => [n, []]))
  try {
    for (let run = 0; run < START_RUNS; run++) {
      for (const n of counts) {
        const { home, cleanup } = await tempHome(n === 0 ? {} : { 'cron_jobs.json': { jobs: jobs(n, new Date().getUTCHours()) } })
        try {
          const s = await startService({ pkg, home })
          times.get(n)?.push(s.startMs)
          await s.stop()
        } finally {
          await cleanup()
        }
      }
      progress(`cron start run ${run + 1}/${START_RUNS}: ${counts.map((n) => `${n} jobs ${times.get(n)?.at(-1)?.toFixed(0)} ms`).join(', ')}`)
    }
  } finally {
    await pkg.cleanup()
  }
  return new Map([...times].map(([n, t]) => [n, median(t)]))
}

interface TickFigures { first: number, p50: number, p99: number, max: number, started: number }

async function ticks (n: number): Promise<TickFigures> {
  const { home, cleanup } = await tempHome(n === 0 ? {} : { 'cron_jobs.json': { jobs: jobs(n) } })
  try {
    const path = join(home, 'cron_jobs.json')
    if (n === 0) await writeFile(path, '{"jobs":[]}\n')
    // Info level, like the service, into /dev/null: the "cron job due" lines are part of the cost.
    const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }))
    let now = Date.UTC(2026, 0, 5, 0, 0, 30)
    const clock = { now: () => now }
    const store = createCronStore({ path, logger, clock })
    await store.load()
    const config = completeConfig({})
    let started = 0
    const ok: TaskRunResult = { status: 'success', runId: null, reply: '', error: null }
    const scheduler = createAutomationScheduler({
      config: () => config,
      clock,
      logger,
      timezone: () => 'UTC',
      cronStore: store,
      planner: createCronPlanner({ logger }),
      runTask: async () => { started++; return ok },
      heartbeatRound: async () => {},
      cleanup: async () => {},
      sweepStale: async () => 0
    })
    const time = async (): Promise<number> => {
      const t = process.hrtime.bigint()
      await scheduler.tick()
      return Number(process.hrtime.bigint() - t) / 1e6
    }
    const first = await time()
    const durations: number[] = []
    for (let s = 0; s < SIM_SECONDS; s++) {
      now += 1000
      durations.push(await time())
      // Let the runs finish and write their results between ticks, as a second of real time would
      // (the tick no longer waits behind a result write, so one event-loop turn is not enough).
      await new Promise((resolve) => setImmediate(resolve))
      await scheduler.idle()
    }
    await scheduler.idle()
    return { first, p50: median(durations), p99: quantile(durations, 0.99), max: Math.max(...durations), started }
  } finally {
    await cleanup()
  }
}

export async function benchCron (): Promise<BenchResult> {
  const result = emptyResult()
  const tickFigures = new Map<number, TickFigures>()
  for (const n of COUNTS) {
    const f = await ticks(n)
    tickFigures.set(n, f)
    progress(`cron ticks, ${n} jobs: first ${f.first.toFixed(1)} ms, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, max ${f.max.toFixed(1)} ms, ${f.started} runs`)
  }
  const starts = await startTimes(START_COUNTS)
  const empty = starts.get(0) ?? NaN
  const big = COUNTS.at(-1) as number
  const startBig = starts.get(big) ?? NaN
  result.rows.push({
    id: 'P7',
    what: `start → /health 200, ${big.toLocaleString('en-US')} jobs (median of ${START_RUNS})`,
    value: startBig,
    unit: 'ms',
    target: '≤ 1 s slower than empty',
    ok: startBig - empty <= 1000,
    baseline: { label: 'no jobs', value: empty },
    ratio: startBig / empty,
    note: `+${(startBig - empty).toFixed(0)} ms`
  })
  const t = tickFigures.get(big) as TickFigures
  const t0 = tickFigures.get(0) as TickFigures
  result.rows.push({
    id: 'P7',
    what: `scheduler tick p99, ${big.toLocaleString('en-US')} jobs (${SIM_SECONDS} ticks)`,
    value: t.p99,
    unit: 'ms',
    target: '≤ 10 ms',
    ok: t.p99 <= 10,
    baseline: { label: 'no jobs', value: t0.p99 },
    ratio: t.p99 / t0.p99
  }, {
    id: 'P7',
    what: `first tick (plans every job), ${big.toLocaleString('en-US')} jobs`,
    value: t.first,
    unit: 'ms',
    target: '(once, after listen)',
    ok: null,
    baseline: { label: 'no jobs', value: t0.first },
    ratio: t.first / t0.first
  })
  result.growth.push({
    title: 'P7 cost growth: cron jobs (start median; ticks over 10 simulated minutes, runs = jobs started)',
    columns: ['jobs', 'start ms', 'start − empty ms', 'first tick ms', 'tick p50 ms', 'tick p99 ms', 'tick max ms', 'runs'],
    rows: COUNTS.map((n) => {
      const f = tickFigures.get(n) as TickFigures
      const s = starts.get(n) ?? NaN
      return [n, s, s - empty, f.first, f.p50, f.p99, f.max, f.started]
    })
  })
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) output(await benchCron())

// `TEST_TIMELINE=<file> node scripts/run-tests.mjs`: where the suite's time goes (docs/testing.md).
//
// Imported into every test process (`--import`, which node:test passes on to each file's process),
// it appends to <file>, one JSON object a line: when the process started, when its last test ended
// (an `after` hook of the root test), when it exited; and, when it is still alive 3 s and 15 s after
// its tests, the ref'd handles that keep it alive (timers, sockets, children) with where each was
// made. A process that outlives its tests holds its slot of `--test-concurrency` and, at the end of
// the run, keeps the whole suite waiting for nothing.
//
// Its default export is a node:test reporter for the runner's process: it appends each top-level
// test (file, name, duration), so the time of each file inside a shared group is known.
// run-tests.mjs prints the summary (`summarize`) when the run ends.
import { createHook } from 'node:async_hooks'
import { appendFileSync, readFileSync } from 'node:fs'

const OUT = process.env.TEST_TIMELINE
const write = (record) => { if (OUT !== undefined && OUT !== '') appendFileSync(OUT, JSON.stringify(record) + '\n') }

/** The kinds of async resources that keep a process alive while ref'd. */
const KEEPS_ALIVE = new Set(['Timeout', 'Immediate', 'TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'PROCESSWRAP', 'TTYWRAP', 'UDPWRAP', 'SIGNALWRAP', 'FSEVENTWRAP', 'STATWATCHER'])

const entry = process.argv[1] ?? ''
if (process.env.NODE_TEST_CONTEXT !== undefined && /\.test\.(ts|mjs)$/.test(entry)) {
  const file = entry
  const started = Date.now()
  const live = new Map()
  createHook({
    init (id, type, _trigger, resource) {
      if (!KEEPS_ALIVE.has(type)) return
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 30
      const stack = (new Error().stack ?? '').split('\n').slice(2)
        .filter((line) => !line.includes('node:internal') && !line.includes('test-timeline.mjs') && !line.includes('node:async_hooks'))
      Error.stackTraceLimit = limit
      live.set(id, { type, resource, stack: stack.slice(0, 10).map((l) => l.trim()), at: Date.now() })
    },
    destroy (id) { live.delete(id) }
  }).enable()
  write({ kind: 'process', event: 'start', file, pid: process.pid, t: started })
  process.on('exit', () => write({ kind: 'process', event: 'exit', file, pid: process.pid, t: Date.now() }))
  const { after } = await import('node:test')
  after(() => {
    const done = Date.now()
    write({ kind: 'process', event: 'tests-done', file, pid: process.pid, t: done })
    const report = (label) => {
      const handles = []
      for (const { type, resource, stack, at } of live.values()) {
        let ref = true
        try { if (typeof resource?.hasRef === 'function') ref = resource.hasRef() } catch {}
        if (!ref || (type === 'Timeout' && resource?._destroyed === true)) continue
        handles.push({ type, madeAt: at - started, ms: resource?._idleTimeout, stack })
      }
      write({ kind: 'process', event: 'alive', label, file, pid: process.pid, t: Date.now(), active: process.getActiveResourcesInfo(), handles })
    }
    setTimeout(() => report('3 s after its tests'), 3000).unref()
    setTimeout(() => report('15 s after its tests'), 15000).unref()
  })
}

export default async function * timeline (source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const { file, nesting, name, details } = event.data
    if (nesting !== 0) continue
    write({ kind: 'test', file, name, t: Date.now(), ms: details?.duration_ms ?? 0 })
  }
}

/** The summary run-tests.mjs prints: each process's start, end of tests, exit, and what kept it alive. */
export function summarize (path, groups) {
  const records = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  const t0 = Math.min(...records.filter((r) => r.kind === 'process').map((r) => r.t))
  const s = (t) => t === undefined ? '   -  ' : ((t - t0) / 1000).toFixed(1).padStart(6)
  const procs = new Map()
  for (const r of records.filter((r) => r.kind === 'process')) {
    const p = procs.get(r.pid) ?? { file: r.file, alive: [] }
    if (r.event === 'alive') p.alive.push(r); else p[r.event] = r.t
    procs.set(r.pid, p)
  }
  const short = (f) => f.slice(f.lastIndexOf('/test/') + 1).replace(/^.*\/(shared-)/, '$1')
  const lines = ['', 'timeline (s from the first test process): start, tests done, exit, ran on after its tests']
  for (const p of [...procs.values()].sort((a, b) => a.start - b.start)) {
    const tail = p['tests-done'] !== undefined && p.exit !== undefined ? (p.exit - p['tests-done']) / 1000 : undefined
    lines.push(`${s(p.start)} ${s(p['tests-done'])} ${s(p.exit)}  ${tail === undefined ? '   ?  ' : tail.toFixed(1).padStart(6)}  ${short(p.file)}`)
    const files = groups.get(p.file)
    if (files !== undefined) {
      // A group's files run one after another in its process, in the order the reporter lists them
      // (the reporter hears of them late, so their times are the process's tests-done minus what followed).
      const perFile = new Map()
      for (const r of records.filter((r) => r.kind === 'test' && files.some((f) => r.file?.endsWith(f)))) {
        perFile.set(r.file, (perFile.get(r.file) ?? 0) + r.ms)
      }
      let end = p['tests-done']
      const rows = []
      for (const [f, ms] of [...perFile].reverse()) {
        rows.unshift(`        ${s(end === undefined ? undefined : end - ms)} ${s(end)}  ${(ms / 1000).toFixed(1).padStart(6)} s of tests  ${short(f)}`)
        if (end !== undefined) end -= ms
      }
      lines.push(...rows)
    }
    for (const a of p.alive) {
      lines.push(`        still alive ${a.label}: ${a.active.join(', ')}`)
      for (const h of a.handles) lines.push(`          ${h.type}${h.ms !== undefined ? ` (${h.ms} ms)` : ''}, made at ${(h.madeAt / 1000).toFixed(1)} s: ${h.stack.slice(0, 6).join(' < ')}`)
    }
  }
  return lines.join('\n') + '\n'
}

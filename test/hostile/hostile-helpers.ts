/**
 * Shared pieces of the hostile-input suite: the full app on a home with a stub CLI executor (so
 * thousands of cases stay cheap), seeded generators of hostile strings, bodies and headers, and the
 * checks every case must pass (no 5xx, JSON errors, no prototype pollution, nothing read or written
 * outside the home).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, sep } from 'node:path'
import type { TestContext } from 'node:test'
import fc from 'fast-check'
import type { App } from '../../src/app.ts'
import type { Config } from '../../src/config.ts'
import type { CliExecutor } from '../../src/providers/cli-executor.ts'
import type { HomePaths } from '../../src/home/paths.ts'
import { build, tempDir, testConfig } from '../helper.ts'

export const OUTSIDE_SECRET = 'OUTSIDE-THE-HOME-do-not-read-7f3a'
export const CASES = Number(process.env['HOSTILE_CASES'] ?? 10_000)

/** The seed of this run: HOSTILE_SEED replays a failure. */
export function seedFor (t: TestContext): number {
  const seed = Number(process.env['HOSTILE_SEED'] ?? Math.floor(Math.random() * 2 ** 31))
  t.diagnostic(`seed ${seed} (replay with HOSTILE_SEED=${seed})`)
  return seed
}

const TOKENS = { input: 1, output: 1, total: 2 }

/** A CLI stand-in that answers at once, so valid chat messages cost nothing. */
export const stubExecutor: CliExecutor = {
  async execute (request) {
    request.onEvent({ type: 'text', text: 'ok' })
    return {
      status: 'success',
      kind: 'success',
      result: { text: 'ok', sessionId: '00000000-0000-4000-8000-000000000000', costUsd: 0, tokens: TOKENS, durationMs: 1, numTurns: 1, isError: false, complete: true },
      exitCode: 0,
      signal: null,
      stderrTail: '',
      durationMs: 1
    }
  }
}

export interface HostileRig {
  app: App
  home: string
  paths: HomePaths
  outside: string
  logs: string[]
}

/** The whole app (admin API on) on `<tmp>/home`, with `<tmp>/outside/secret.txt` next to it as bait. */
export async function hostileRig (t: TestContext, config: Config = testConfig(), opts: { executor?: CliExecutor } = {}): Promise<HostileRig> {
  // On tmpfs when there is one: thousands of atomic writes, each with fsync, would cost minutes on a disk.
  const root = existsSync('/dev/shm') ? await mkdtemp(join('/dev/shm', 'ductor-hostile-')) : await tempDir(t, 'ductor-hostile-')
  const home = join(root, 'home')
  const outside = join(root, 'outside')
  await mkdir(outside)
  await writeFile(join(outside, 'secret.txt'), OUTSIDE_SECRET)
  const { app, paths, logs } = await build(t, {
    home,
    config,
    exactEnv: {},
    executor: opts.executor ?? stubExecutor,
    prepare: async (paths) => { await writeFile(paths.memory, `memory ${OUTSIDE_SECRET.slice(0, 3)}\n`) }
  })
  t.after(async () => { await rm(root, { recursive: true, force: true }) })
  return { app, home, paths, outside, logs }
}

const pct = (bytes: Uint8Array): string => [...bytes].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')

/** Strings an attacker would put in an id, a name or a field. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..', '../..', '../outside/secret.txt', '../../../../etc/passwd', '..\\..\\windows', '/etc/passwd', '.', '~',
    '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '', ' ', 'a\u0000b', '\u0000',
    'x\nInjected: header', '\u202egnp.exe', 'CON', 'nul', '$HOME', '`id`', '$(id)', '{{constructor.constructor}}',
    '%00', '%2e%2e%2f', '\ud800', '\udfff', '🙂'.repeat(50), 'a'.repeat(70), 'a'.repeat(100_001), '-1', '1e999', 'NaN'
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('.', '/', '\\', '%', '\u0000', 'a', '_', '-'), maxLength: 20 })
)

/** A URL path segment: encoded hostile text, raw percent bytes (not UTF-8), or traversal spellings. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map(pct),
  fc.constantFrom('..', '%2e%2e', '%2e%2e%2f%2e%2e%2foutside', '..%2f..%2foutside%2fsecret.txt', '%00', 'a%00b', '%c0%ae%c0%ae', '__proto__', 'constructor', '42', 'ok_chat', 'daily')
)

/** Mostly small sizes, sometimes one of the big ones (big cases are costly; a few make the point). */
function sized (max: number, big: number[]): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.integer({ min: 1, max }), weight: 19 }, { arbitrary: fc.constantFrom(...big), weight: 1 })
}

/** JSON text nested `depth` levels deep. */
export const deepJson = (depth: number, kind: 'array' | 'object'): string =>
  kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

const pollution = fc.constantFrom(
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"text":"hi","__proto__":{"polluted":"yes"}}',
  '{"a":{"__proto__":{"polluted":"yes"}}}',
  '{"model":"opus","constructor":{"prototype":{"polluted":"yes"}}}',
  '{"streaming":{"__proto__":{"polluted":"yes"}}}',
  '{"id":"x","title":"t","schedule":"* * * * *","__proto__":{"polluted":"yes"}}',
  '{"content":"m","__proto__":{"isAdmin":true}}'
)

const fieldNames = ['text', 'provider', 'model', 'content', 'id', 'title', 'schedule', 'task_folder', 'timezone', 'description',
  'task_description', 'enabled', 'dependency', 'cli_parameters', 'agent_instruction', 'cli_timeout', 'file_access', 'streaming',
  'heartbeat', 'user_timezone', 'quiet_start', '__proto__', 'constructor']

const fieldsBody = fc.dictionary(fc.constantFrom(...fieldNames), fc.oneof(hostileString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(hostileString, { maxLength: 3 })), { maxKeys: 5 })
  .map((o) => ({ payload: JSON.stringify(o), type: 'application/json' }))
const oddTypeBody = fc.tuple(hostileString, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/json;;;', 'x/'.repeat(500)))
  .map(([s, type]) => ({ payload: s, type }))

/** A request body (string or bytes) and the content type it is sent with. */
export const hostileBody: fc.Arbitrary<{ payload?: string | Buffer, type?: string }> = fc.oneof(
  { arbitrary: fc.constant({}), weight: 5 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ payload: Buffer.from(b), type: 'application/json' })), weight: 5 },
  { arbitrary: fc.uint8Array({ maxLength: 100 }).map((b) => ({ payload: Buffer.concat([Buffer.from('{"text":"'), Buffer.from(b.map((x) => x | 0x80)), Buffer.from('","content":"x"}')]), type: 'application/json' })), weight: 5 },
  { arbitrary: fc.tuple(sized(2000, [50_000, 200_000]), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => ({ payload: deepJson(d, k), type: 'application/json' })), weight: 5 },
  { arbitrary: pollution.map((payload) => ({ payload, type: 'application/json' })), weight: 5 },
  { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ payload: JSON.stringify(v), type: 'application/json' })), weight: 5 },
  { arbitrary: fieldsBody, weight: 5 },
  { arbitrary: oddTypeBody, weight: 5 },
  { arbitrary: fc.constant({ payload: 'x'.repeat(1024 * 1024 + 10), type: 'application/json' }), weight: 1 }
)

/** Extra headers: duplicates, huge values, proxy headers, odd Accept. */
export const hostileHeaders: fc.Arbitrary<Record<string, string | string[]>> = fc.record({
  accept: fc.constantFrom(undefined, 'text/event-stream', '*/*', 'text/event-stream, application/json', '\u0000'),
  'x-forwarded-for': fc.constantFrom(undefined, undefined, undefined, '203.0.113.9'),
  'x-dup': fc.option(fc.array(fc.string({ maxLength: 20 }), { minLength: 2, maxLength: 5 }), { nil: undefined }),
  'x-huge': fc.option(sized(2000, [100_000, 1_000_000]).map((n) => 'h'.repeat(n)), { nil: undefined, freq: 3 }),
  'content-length': fc.constantFrom(undefined, undefined, '0', '-1', '99999999999', 'abc')
}, { requiredKeys: [] }).map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined && !(typeof v === 'string' && /[^\t\x20-\x7e]/.test(v)))) as Record<string, string | string[]>)

/** Nothing was added to Object.prototype (a polluted prototype shows up on every object). */
export function assertNoPollution (context: string): void {
  const probe = {} as Record<string, unknown>
  assert.equal(probe['polluted'], undefined, `${context}: Object.prototype polluted`)
  assert.equal(probe['isAdmin'], undefined, `${context}: Object.prototype polluted`)
  assert.deepEqual(Object.keys(Object.prototype), [], `${context}: Object.prototype has keys`)
}

/** Every file and folder under `dir`, relative; symlinks are reported as such. */
export async function tree (dir: string, base = dir): Promise<string[]> {
  const out: string[] = []
  for (const name of await readdir(dir)) {
    const path = join(dir, name)
    // A store's temp file can be renamed away between readdir and lstat (a write still finishing):
    // its name is still checked, there is nothing left to look into.
    const info = await lstat(path).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return null; throw err })
    out.push(path.slice(base.length + 1) + (info?.isSymbolicLink() === true ? ' -> symlink' : ''))
    if (info?.isDirectory() === true) out.push(...await tree(path, base))
  }
  return out
}

/** The bait next to the home is untouched and nothing new appeared beside it; the home holds no odd names. */
export async function assertConfined (rig: HostileRig, ownSymlinks: string[] = []): Promise<void> {
  assert.deepEqual(await readdir(join(rig.outside, '..')), ['home', 'outside'], 'nothing written next to the home')
  assert.deepEqual(await readdir(rig.outside), ['secret.txt'])
  assert.equal(await readFile(join(rig.outside, 'secret.txt'), 'utf8'), OUTSIDE_SECRET)
  for (const rel of await tree(rig.home)) {
    assert.ok(!rel.includes('symlink') || ownSymlinks.includes(rel), `a symlink was created in the home: ${rel}`)
    assert.ok(!rel.split(sep).includes('..'), `odd path in the home: ${rel}`)
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f]/.test(rel), `control character in a file name: ${JSON.stringify(rel)}`)
  }
}

/** The stable codes of docs/admin-api.md's error table. */
const ERROR_CODES = ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'internal_error', 'unavailable']

/** One answer of the app: never 5xx, always a JSON error shape when it refuses, never the bait. */
export function assertAnswer (res: { statusCode: number, body: string, headers: Record<string, unknown> }, context: string): void {
  assert.ok(res.statusCode < 500, `${context}: answered ${res.statusCode} ${res.body.slice(0, 300)}`)
  assert.ok(!res.body.includes(OUTSIDE_SECRET), `${context}: the answer holds a file from outside the home`)
  if (res.statusCode >= 400) {
    // The documented shape exactly (README, docs/admin-api.md): a stable code and a sentence, nothing of Fastify's or Ajv's.
    const body = JSON.parse(res.body) as { error?: unknown, message?: unknown }
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message'], `${context}: error shape ${res.body.slice(0, 200)}`)
    assert.ok(ERROR_CODES.includes(body.error as string), `${context}: error code ${res.body.slice(0, 200)}`)
    assert.equal(typeof body.message, 'string', `${context}: error shape ${res.body.slice(0, 200)}`)
    assert.doesNotMatch(body.message as string, /FST_ERR|^(params|querystring|headers)\/|^body(\/\S+)? must |must have required property|must match pattern/, `${context}: wording ${res.body.slice(0, 200)}`)
  }
}

/**
 * Runs `total` cases drawn from `arb` with `concurrency` in flight (the app mostly waits on its own
 * I/O, so this is several times faster than one at a time). Deterministic for a seed: chunk k draws
 * from seed + k. A failure names the seed and the case number.
 */
export async function runCases<T> (arb: fc.Arbitrary<T>, opts: { seed: number, total: number, concurrency?: number }, fn: (value: T, index: number) => Promise<void>): Promise<void> {
  const chunk = 500
  const concurrency = opts.concurrency ?? 16
  for (let start = 0, k = 0; start < opts.total; start += chunk, k++) {
    const values = fc.sample(arb, { seed: opts.seed + k, numRuns: Math.min(chunk, opts.total - start) })
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < values.length) {
        const i = next++
        try {
          await fn(values[i] as T, start + i)
        } catch (err) {
          throw new Error(`case ${start + i} of seed ${opts.seed} failed (replay with HOSTILE_SEED=${opts.seed}): ${(err as Error).message}`, { cause: err })
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }
}

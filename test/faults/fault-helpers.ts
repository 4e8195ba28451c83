/** Shared set-up for the fault-injection suite: the full app on fake CLIs, and a census of live processes. */
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { build, fakeClis, tempDir, testConfig, ADMIN_TOKEN, type Built } from '../helper.ts'

export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

/**
 * Live (non-zombie) processes whose environment holds `DUCTOR_HOME=<home>`: every CLI of that home
 * and everything it started (children inherit the environment), whatever process group they chose,
 * and the CLI spawner (ADR 32), whose environment is that one variable. `serviceUp`: the service still
 * runs, so its spawner is not counted.
 */
export function survivors (home: string, opts: { serviceUp?: boolean } = {}): number[] {
  const needle = Buffer.from(`DUCTOR_HOME=${home}\0`)
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (state === 'Z' || state === 'X') continue
      if (!readFileSync(`/proc/${entry}/environ`).includes(needle)) continue
      // The running service's CLI spawner (ADR 32) is the service's, not a run's.
      if (opts.serviceUp === true && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('ductor-spawner.mjs')) continue
      found.push(Number(entry))
    } catch {}
  }
  return found
}

export interface FaultRig extends Built {
  bin: { dir: string, claude: string, codex: string }
  record: string
  send: (text: string, chatId?: string) => Promise<{ statusCode: number, body: ChatReply }>
  recorded: () => Promise<{ pid: number, grandchildPid?: number }>
}

export interface ChatReply { run_id: string | null, status: string, reply: string, session_id: string | null }

/**
 * The app with `cli_paths` pointing at the fake CLIs and an environment that holds nothing of the
 * host's PATH (so a missing fake can never fall back to a real CLI).
 */
export async function faultRig (t: TestContext, config: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<FaultRig> {
  const bin = await fakeClis(t)
  const record = join(await tempDir(t), 'record.json')
  const built = await build(t, {
    config: testConfig({ cli_paths: { claude: bin.claude, codex: bin.codex }, ...config }),
    exactEnv: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', FAKE_CLI_RECORD: record, ...env }
  })
  t.after(() => built.app.runner.registry.killAll())
  const send = async (text: string, chatId = '42'): Promise<{ statusCode: number, body: ChatReply }> => {
    const res = await built.app.inject({ method: 'POST', url: `/api/chats/${chatId}/messages`, headers: auth, payload: { text } })
    return { statusCode: res.statusCode, body: res.json() }
  }
  const recorded = async (): Promise<{ pid: number, grandchildPid?: number }> => JSON.parse(await readFile(record, 'utf8'))
  return { ...built, bin, record, send, recorded }
}

/** A reply a person can read: no stack frames, no internal paths of ductor's sources. */
export function assertNoStackTrace (text: string): void {
  if (/\n\s+at .+(\(|:\d+:\d+)/.test(text) || /node:internal|src\/providers|\.ts:\d+/.test(text)) {
    throw new Error(`reply shows internals: ${text.slice(0, 500)}`)
  }
}

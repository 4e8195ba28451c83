import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { type Hook, parseHook } from '../../src/webhooks/hook-schema.ts'

/** A valid hook with defaults filled in; `overrides` may set any field. */
export function makeHook (overrides: Record<string, unknown> = {}): Hook {
  const parsed = parseHook({ id: 'test-hook', title: 'Test', mode: 'wake', prompt_template: '{{msg}}', ...overrides })
  if (!parsed.ok) throw new Error(`bad test hook: ${JSON.stringify(parsed.problems)}`)
  return parsed.hook
}

/** A fresh temporary directory removed when the test ends. */
export async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-webhooks-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Flips one byte of a string (keeps it printable), for "altered by one byte" checks. */
export function alterOneChar (value: string, index = value.length - 1): string {
  const char = value[index] ?? ''
  const replacement = char === 'a' ? 'b' : char === '0' ? '1' : char === '=' ? 'A' : 'a'
  return value.slice(0, index) + replacement + value.slice(index + 1)
}

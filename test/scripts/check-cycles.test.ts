import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { tempDir, ROOT } from '../helper.ts'

const script = join(ROOT, 'scripts', 'check-cycles.mjs')

async function tree (root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), text)
  }
}

function check (root: string): { status: number | null, out: string } {
  const run = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' })
  return { status: run.status, out: run.stdout + run.stderr }
}

test('check-cycles fails on a cycle between two folders and names the files that make it', async (t) => {
  const root = await tempDir(t)
  await tree(root, {
    'src/core/orchestrator.ts': "import type { Job } from '../automation/jobs.ts'\nexport type X = Job\n",
    'src/automation/heartbeat.ts': "import { run } from '../core/chat-run.ts'\nexport const h = run\n",
    'src/automation/jobs.ts': 'export type Job = string\n',
    'src/core/chat-run.ts': 'export const run = 1\n'
  })
  const { status, out } = check(root)
  assert.equal(status, 1)
  assert.match(out, /import cycle between src\/automation\/, src\/core\//)
  assert.match(out, /src\/core\/orchestrator\.ts → src\/automation\/jobs\.ts/)
  assert.match(out, /src\/automation\/heartbeat\.ts → src\/core\/chat-run\.ts/)
})

test('check-cycles follows dynamic imports and passes a tree whose folders only point one way', async (t) => {
  const root = await tempDir(t)
  await tree(root, {
    'src/app.ts': "export const load = async () => await import('./telegram/bot.ts')\n",
    'src/telegram/bot.ts': "import { run } from '../core/chat-run.ts'\nexport const b = run\n",
    'src/core/chat-run.ts': 'export const run = 1\n'
  })
  assert.equal(check(root).status, 0)
  await tree(root, { 'src/core/chat-run.ts': "export const run = 1\nexport const late = async () => await import('../app.ts')\n" })
  const { status, out } = check(root)
  assert.equal(status, 1)
  assert.match(out, /src\/app\.ts, src\/core\/, src\/telegram\//)
})

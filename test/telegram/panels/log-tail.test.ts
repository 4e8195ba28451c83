import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir, testConfig } from '../../helper.ts'
import { readLogTail, scrubLine, shortLogLine } from '../../../src/telegram/panels/log-tail.ts'
import { configSecrets } from '../../../src/config.ts'
import { createSecretMask } from '../../../src/secret-mask.ts'

test('the log tail is the last lines, shortened, with secrets scrubbed', async (t) => {
  const dir = await tempDir(t)
  await mkdir(dir, { recursive: true })
  const config = testConfig({ telegram_token: '987654:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789' })
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ level: 30, time: `2026-12-01T10:00:${String(i).padStart(2, '0')}.000Z`, msg: `line ${i}`, component: 'runner' }))
  lines.push(JSON.stringify({ level: 50, time: '2026-12-01T10:01:00.000Z', msg: `getUpdates https://api.telegram.org/bot${config.telegram_token}/x failed`, err: { message: `token ${config.admin.token} and Bearer abcdefghijkl` } }))
  lines.push('not json at all')
  await writeFile(join(dir, 'ductor.log'), lines.join('\n') + '\n')
  const tail = await readLogTail(dir, 5)
  assert.equal(tail.length, 5)
  const secrets = createSecretMask()
  for (const secret of configSecrets(config)) secrets.add(secret)
  const shown = tail.map((l) => scrubLine(shortLogLine(l), secrets.mask))
  assert.deepEqual(shown.slice(0, 3), ['10:00:27 INFO line 27 (runner)', '10:00:28 INFO line 28 (runner)', '10:00:29 INFO line 29 (runner)'])
  assert.equal(shown[3], '10:01:00 ERROR getUpdates https://api.telegram.org/bot[REDACTED]/x failed (token [REDACTED] and Bearer [REDACTED])')
  assert.equal(shown[4], 'not json at all')
  assert.ok(!shown.join('\n').includes(config.admin.token))
})

test('a missing log is no lines; a long log is read from its end only', async (t) => {
  const dir = await tempDir(t)
  assert.deepEqual(await readLogTail(join(dir, 'nope')), [])
  await writeFile(join(dir, 'ductor.log'), 'x'.repeat(100_000) + '\nlast\n')
  assert.deepEqual(await readLogTail(dir, 3, 1000), ['last'])
})

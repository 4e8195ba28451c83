import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join, delimiter } from 'node:path'
import { ductor, tempDir } from '../helper.ts'

test('`ductor status` of a stopped service still tells model, Docker, the errors of the last day and the paths (as the Python version does)', async (t) => {
  const home = await tempDir(t)
  await mkdir(join(home, 'config'), { recursive: true })
  await writeFile(join(home, 'config', 'config.json'), JSON.stringify({ provider: 'codex', model: 'gpt-5.5', reasoning_effort: 'high', docker: { enabled: true, container_name: 'my-box' } }))
  await mkdir(join(home, 'logs'), { recursive: true })
  const at = (hoursAgo: number): string => new Date(Date.now() - hoursAgo * 3_600_000).toISOString()
  await writeFile(join(home, 'logs', 'ductor.log'), [
    { level: 50, time: at(30), msg: 'too old to count' },
    { level: 30, time: at(2), msg: 'telegram: up' },
    { level: 50, time: at(2), msg: 'cron job hn-digest failed' },
    'not json at all',
    { level: 60, time: at(1), msg: 'telegram: down: getMe was refused' }
  ].map((l) => typeof l === 'string' ? l : JSON.stringify(l)).join('\n') + '\n')
  // A docker that knows the container (the real one is not needed to read its state).
  const bin = await tempDir(t)
  await writeFile(join(bin, 'docker'), '#!/bin/sh\n[ "$1" = inspect ] && [ "$4" = my-box ] && echo running && exit 0\necho "Error: No such object: $4" >&2\nexit 1\n')
  await chmod(join(bin, 'docker'), 0o755)
  const env = { DUCTOR_HOME: home, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` }

  const out = await ductor(['status'], env)
  assert.equal(out.code, 3)
  assert.match(out.stdout, /^ductor is not running\n/)
  assert.match(out.stdout, /\n {2}model {6}codex · gpt-5\.5 \(high\)\n/)
  assert.match(out.stdout, /\n {2}docker {5}on, container my-box running\n/)
  assert.match(out.stdout, /\n {2}errors {5}2 in logs\/ductor\.log in the last 24 h \(last: telegram: down: getMe was refused\)\n/)
  for (const [name, path] of [['home', home], ['config', join(home, 'config', 'config.json')], ['logs', join(home, 'logs')], ['sessions', join(home, 'sessions.json')]] as const) {
    assert.ok(out.stdout.includes(`\n    ${name.padEnd(10)} ${path}\n`), `${name} path in:\n${out.stdout}`)
  }
  assert.match(out.stdout, /start it with: ductor serve\n$/)

  const json = JSON.parse((await ductor(['status', '--json'], env)).stdout) as Record<string, unknown>
  assert.deepEqual([json['running'], json['provider'], json['model'], json['reasoning_effort'], json['docker'], json['errors']], [false, 'codex', 'gpt-5.5', 'high', 'on, container my-box running', 2])

  // A container that does not exist is said so, not "running".
  await writeFile(join(home, 'config', 'config.json'), JSON.stringify({ docker: { enabled: true, container_name: 'gone' } }))
  assert.match((await ductor(['status'], env)).stdout, /\n {2}docker {5}on, container gone does not exist\n/)
})

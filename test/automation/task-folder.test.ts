import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readFile, writeFile, readdir, rm, symlink, lstat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import {
  sanitizeTaskName, isValidTaskName, createTaskFolder, resolveTaskFolder, refreshTaskRules, memoryFileName, defaultTaskTemplatesDir
} from '../../src/automation/task-folder.ts'

async function home (t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'ductor-tasks-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return { dir, cronTasks: join(dir, 'workspace', 'cron_tasks') }
}

test('sanitizeTaskName makes safe lowercase names from free text', () => {
  assert.equal(sanitizeTaskName('Daily News: Tech!'), 'daily-news-tech')
  assert.equal(sanitizeTaskName('Tägliche Übersicht'), 'tagliche-ubersicht')
  assert.equal(sanitizeTaskName('../../etc/passwd'), 'etc-passwd')
  assert.equal(sanitizeTaskName('a\u0000b\nc\u202ed'), 'a-b-c-d')
  assert.equal(sanitizeTaskName('__weather_check__'), 'weather_check')
  assert.equal(sanitizeTaskName('x'.repeat(100)).length, 64)
  assert.equal(sanitizeTaskName(`${'a'.repeat(63)}-b`), 'a'.repeat(63))
  for (const name of ['Daily News: Tech!', '../../etc/passwd', 'x'.repeat(100)]) assert.ok(isValidTaskName(sanitizeTaskName(name)))
  assert.throws(() => sanitizeTaskName('..'), { code: 'bad_request' })
  assert.throws(() => sanitizeTaskName('!!!'), { code: 'bad_request' })
  assert.throws(() => sanitizeTaskName(''), { code: 'bad_request' })
})

test('isValidTaskName accepts only canonical names', () => {
  for (const ok of ['a', 'daily-report', 'job_1', '0abc', 'a'.repeat(64)]) assert.ok(isValidTaskName(ok), ok)
  for (const bad of ['', '.', '..', 'A', '-a', '_a', 'a/b', 'a\\b', 'a\u0000', 'a b', 'a'.repeat(65), 'a..b', 'a.b']) {
    assert.equal(isValidTaskName(bad), false, JSON.stringify(bad))
  }
})

test('createTaskFolder lays out rules, description, memory and scripts', async (t) => {
  const { cronTasks } = await home(t)
  const result = await createTaskFolder({ cronTasksDir: cronTasks, name: 'daily-report', title: 'Daily report', description: 'Summarise my inbox.\n' })
  assert.equal(result.created, true)
  assert.deepEqual(result.written, ['CLAUDE.md', 'AGENTS.md', 'TASK_DESCRIPTION.md', 'daily-report_MEMORY.md', 'scripts/'])
  const folder = result.path
  assert.deepEqual((await readdir(folder)).sort(), ['AGENTS.md', 'CLAUDE.md', 'TASK_DESCRIPTION.md', 'daily-report_MEMORY.md', 'scripts'])
  const claude = await readFile(join(folder, 'CLAUDE.md'), 'utf8')
  assert.equal(await readFile(join(folder, 'AGENTS.md'), 'utf8'), claude, 'both CLIs get the same rules')
  assert.match(claude, /TASK_DESCRIPTION\.md/)
  assert.match(claude, /daily-report_MEMORY\.md/)
  assert.match(claude, /scripts\//)
  assert.match(claude, /final message is delivered to the user/)
  assert.doesNotMatch(claude, /\{\{/)
  assert.equal(await readFile(join(folder, 'TASK_DESCRIPTION.md'), 'utf8'), '# Daily report\n\nSummarise my inbox.\n')
  assert.match(await readFile(join(folder, memoryFileName('daily-report')), 'utf8'), /^# daily-report memory/)
  assert.ok((await lstat(join(folder, 'scripts'))).isDirectory())
})

test('user files are never overwritten; rule files are refreshed', async (t) => {
  const { cronTasks } = await home(t)
  const { path: folder } = await createTaskFolder({ cronTasksDir: cronTasks, name: 'news', description: 'first' })
  await writeFile(join(folder, 'TASK_DESCRIPTION.md'), 'edited by the user')
  await writeFile(join(folder, 'news_MEMORY.md'), 'learned things')
  await writeFile(join(folder, 'CLAUDE.md'), 'stale rules')
  await writeFile(join(folder, 'scripts', 'fetch.sh'), 'echo hi')
  const again = await createTaskFolder({ cronTasksDir: cronTasks, name: 'news', description: 'second' })
  assert.equal(again.created, false)
  assert.deepEqual(again.written, ['CLAUDE.md'])
  assert.equal(await readFile(join(folder, 'TASK_DESCRIPTION.md'), 'utf8'), 'edited by the user')
  assert.equal(await readFile(join(folder, 'news_MEMORY.md'), 'utf8'), 'learned things')
  assert.equal(await readFile(join(folder, 'scripts', 'fetch.sh'), 'utf8'), 'echo hi')
  assert.equal(await readFile(join(folder, 'CLAUDE.md'), 'utf8'), await readFile(join(folder, 'AGENTS.md'), 'utf8'))

  await writeFile(join(folder, 'AGENTS.md'), 'tampered')
  assert.deepEqual(await refreshTaskRules(cronTasks, 'news'), ['AGENTS.md'])
  assert.deepEqual(await refreshTaskRules(cronTasks, 'news'), [], 'nothing to do when up to date')
})

test('placeholders in the description text are left as written', async (t) => {
  const { cronTasks } = await home(t)
  const { path } = await createTaskFolder({ cronTasksDir: cronTasks, name: 'tpl', title: 'T', description: 'Use {{name}} and {{title}} literally' })
  assert.equal(await readFile(join(path, 'TASK_DESCRIPTION.md'), 'utf8'), '# T\n\nUse {{name}} and {{title}} literally\n')
})

test('names that are not canonical are refused before touching the disk', async (t) => {
  const { dir, cronTasks } = await home(t)
  for (const name of ['..', '../escape', 'a/b', 'Upper', 'a\u0000b', '']) {
    await assert.rejects(createTaskFolder({ cronTasksDir: cronTasks, name, description: 'x' }), { code: 'bad_request' }, JSON.stringify(name))
  }
  assert.deepEqual(await readdir(dir), [])
})

test('symlink escapes are refused; symlinked rule files are replaced, not written through', async (t) => {
  const { dir, cronTasks } = await home(t)
  await mkdir(cronTasks, { recursive: true })
  const outside = join(dir, 'outside')
  await mkdir(outside)
  await symlink(outside, join(cronTasks, 'evil'))
  await assert.rejects(createTaskFolder({ cronTasksDir: cronTasks, name: 'evil', description: 'x' }), { code: 'forbidden' })
  await assert.rejects(resolveTaskFolder(cronTasks, 'evil'), { code: 'forbidden' })
  assert.deepEqual(await readdir(outside), [])

  const { path } = await createTaskFolder({ cronTasksDir: cronTasks, name: 'ok', description: 'x' })
  await writeFile(join(outside, 'target.md'), 'precious')
  await rm(join(path, 'CLAUDE.md'))
  await symlink(join(outside, 'target.md'), join(path, 'CLAUDE.md'))
  await rm(join(path, 'TASK_DESCRIPTION.md'))
  await symlink(join(outside, 'desc.md'), join(path, 'TASK_DESCRIPTION.md'))
  const again = await createTaskFolder({ cronTasksDir: cronTasks, name: 'ok', description: 'x' })
  assert.ok(again.written.includes('CLAUDE.md'))
  assert.equal(await readFile(join(outside, 'target.md'), 'utf8'), 'precious')
  assert.equal((await lstat(join(path, 'CLAUDE.md'))).isSymbolicLink(), false)
  assert.deepEqual((await readdir(outside)).sort(), ['target.md'], 'a dangling symlink is not followed to create a file')
})

test('resolveTaskFolder finds existing folders, legacy names included, and reports missing ones', async (t) => {
  const { cronTasks } = await home(t)
  await createTaskFolder({ cronTasksDir: cronTasks, name: 'present', description: 'x' })
  assert.match(await resolveTaskFolder(cronTasks, 'present'), /cron_tasks[/\\]present$/)
  await mkdir(join(cronTasks, 'Old.Task'))
  assert.match(await resolveTaskFolder(cronTasks, 'Old.Task'), /Old\.Task$/)
  await assert.rejects(resolveTaskFolder(cronTasks, 'absent'), { code: 'not_found' })
  await assert.rejects(resolveTaskFolder(cronTasks, '..'), { code: 'bad_request' })
  await assert.rejects(resolveTaskFolder(cronTasks, 'a..b'), { code: 'bad_request' })
  await writeFile(join(cronTasks, 'file'), 'x')
  await assert.rejects(resolveTaskFolder(cronTasks, 'file'), { code: 'not_found' })
})

test('the shipped templates are found from the source tree', () => {
  assert.match(defaultTaskTemplatesDir(), /templates[/\\]task[/\\]?$/)
})

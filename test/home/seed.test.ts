import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir, writeFile, mkdir, utimes, access } from 'node:fs/promises'
import { join } from 'node:path'
import { KEPT_RULES_DIR, seedHome, syncRuleFiles } from '../../src/home/seed.ts'
import { homePaths, resolveHome } from '../../src/home/paths.ts'
import { renderRules } from '../../src/home/templates.ts'
import { memoryLogger, tempDir } from '../helper.ts'

test('seeding an empty home creates the folders of SPEC §1 and the rule, memory and tool files', async (t) => {
  const home = await tempDir(t)
  await seedHome(home, { variant: 'both' })
  const p = homePaths(home)
  for (const dir of [p.logs, p.state, p.cronTasks, p.skills, p.tools, p.telegramFiles, p.outputToUser]) await access(dir)
  const claude = await readFile(join(p.workspace, 'CLAUDE.md'), 'utf8')
  assert.equal(await readFile(join(p.workspace, 'AGENTS.md'), 'utf8'), claude, 'CLAUDE.md and AGENTS.md are identical')
  assert.match(claude, /MAINMEMORY\.md/)
  assert.match(claude, /\[button:/)
  assert.match(await readFile(p.memory, 'utf8'), /# Main memory/)
  assert.match(await readFile(join(p.tools, 'cron.md'), 'utf8'), /ductor cron add/)
  assert.match(await readFile(join(home, 'CLAUDE.md'), 'utf8'), /ductor home/)
})

test('framework files are refreshed on every start, user files are never overwritten, a second seed writes nothing', async (t) => {
  const home = await tempDir(t)
  const p = homePaths(home)
  await seedHome(home, { variant: 'both' })
  const rules = await readFile(join(p.workspace, 'CLAUDE.md'), 'utf8')
  await writeFile(p.memory, '# Main memory\n\nThe user is called Ada.\n')
  await writeFile(join(p.tools, 'cron.md'), 'stale docs')
  const written = await seedHome(home, { variant: 'both' })
  assert.deepEqual(written, [join(p.tools, 'cron.md')])
  assert.match(await readFile(join(p.tools, 'cron.md'), 'utf8'), /ductor cron add/)
  assert.equal(await readFile(p.memory, 'utf8'), '# Main memory\n\nThe user is called Ada.\n')
  assert.equal(await readFile(join(p.workspace, 'CLAUDE.md'), 'utf8'), rules)
  assert.deepEqual(await seedHome(home, { variant: 'both' }), [], 'idempotent')
})

test('a rule file the user edited is refreshed at the next start, and what they wrote is kept aside with a warning, once; a variant change keeps nothing', async (t) => {
  const home = await tempDir(t)
  const p = homePaths(home)
  const { logger, lines } = memoryLogger()
  await seedHome(home, { variant: 'claude', logger })
  await seedHome(home, { variant: 'both', logger })
  assert.equal(await readdir(join(p.state, KEPT_RULES_DIR)).catch(() => 'none'), 'none', 'ductor\'s own text is replaced without a copy')
  const rules = await readFile(join(p.workspace, 'CLAUDE.md'), 'utf8')
  // The user adds a rule; the running service copies it to AGENTS.md (the pair is kept in sync).
  await writeFile(join(p.workspace, 'CLAUDE.md'), rules + '\nUSER RULE: always answer in French.\n')
  await syncRuleFiles(p.workspace)
  await seedHome(home, { variant: 'both', logger })
  assert.equal(await readFile(join(p.workspace, 'CLAUDE.md'), 'utf8'), rules, 'the rule file is ductor\'s again')
  const kept = await readdir(join(p.state, KEPT_RULES_DIR))
  assert.equal(kept.length, 1, `one copy of the edited text (both files held it): ${kept.join(', ')}`)
  assert.match(await readFile(join(p.state, KEPT_RULES_DIR, kept[0] as string), 'utf8'), /USER RULE: always answer in French/)
  assert.equal(lines.filter((l) => l.includes('kept aside') && l.includes(KEPT_RULES_DIR) && l.includes('MAINMEMORY.md')).length, 1, 'one warning naming the copy and where rules belong')
  await seedHome(home, { variant: 'both', logger })
  assert.equal((await readdir(join(p.state, KEPT_RULES_DIR))).length, 1, 'nothing more is kept on the next start')
})

test('the rule variant follows the installed CLIs', async (t) => {
  const home = await tempDir(t)
  await seedHome(home, { variant: 'claude' })
  const claudeOnly = await readFile(join(home, 'workspace', 'CLAUDE.md'), 'utf8')
  assert.match(claudeOnly, /Running as Claude Code/)
  assert.doesNotMatch(claudeOnly, /Running as Codex|Two agents/)
  await seedHome(home, { variant: 'codex' })
  const codexOnly = await readFile(join(home, 'workspace', 'AGENTS.md'), 'utf8')
  assert.match(codexOnly, /Running as Codex/)
  assert.doesNotMatch(codexOnly, /Running as Claude Code/)
  assert.doesNotMatch(renderRules('a\n<!-- if:both -->\nB\n<!-- end -->\nc\n', 'claude'), /B/)
  assert.match(renderRules('a\n<!-- if:both -->\nB\n<!-- end -->\nc\n', 'both'), /^a\nB\nc\n$/)
})

test('CLAUDE.md and AGENTS.md are kept in sync throughout the workspace: the newer wins, a missing one is created', async (t) => {
  const root = await tempDir(t)
  const task = join(root, 'cron_tasks', 'news')
  await mkdir(task, { recursive: true })
  await writeFile(join(task, 'CLAUDE.md'), 'old rules')
  await writeFile(join(task, 'AGENTS.md'), 'new rules from codex')
  const past = new Date(Date.now() - 60_000)
  await utimes(join(task, 'CLAUDE.md'), past, past)
  const lonely = join(root, 'skills', 'x')
  await mkdir(lonely, { recursive: true })
  await writeFile(join(lonely, 'AGENTS.md'), 'only agents')

  const written = await syncRuleFiles(root)
  assert.equal(await readFile(join(task, 'CLAUDE.md'), 'utf8'), 'new rules from codex')
  assert.equal(await readFile(join(lonely, 'CLAUDE.md'), 'utf8'), 'only agents')
  assert.equal(written.length, 2)
  assert.deepEqual(await syncRuleFiles(root), [], 'nothing to do once in sync')
})

test('the home is DUCTOR_HOME, else ~/.ductor', () => {
  assert.equal(resolveHome({ DUCTOR_HOME: '/srv/ductor' }), '/srv/ductor')
  assert.match(resolveHome({ HOME: '/home/ada' }), /\.ductor$/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cp, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import type { TestContext } from 'node:test'
import { homePaths } from '../../src/home/paths.ts'
import { seedHome, BUNDLED_MARKER } from '../../src/home/seed.ts'
import { build, ductor, ROOT, testConfig, waitFor } from '../helper.ts'
import { startBot } from '../telegram/helpers.ts'

/**
 * The three-way skill sync (ADR 0023) on temp homes, through the running service: a temp HOME with
 * ~/.claude and ~/.codex, a seeded ductor home, the app listening with a fast sync interval.
 */

interface World { home: string, user: string, ws: string, claude: string, codex: string, close: () => Promise<void>, logs: string[] }

async function world (t: TestContext, opts: { before?: (w: Omit<World, 'close' | 'logs'>) => Promise<void>, pythonHome?: boolean } = {}): Promise<World> {
  const user = await mkdtemp(join(tmpdir(), 'ductor-skills-home-'))
  const home = join(user, '.ductor')
  const paths = homePaths(home)
  const w = { home, user, ws: paths.skills, claude: join(user, '.claude', 'skills'), codex: join(user, '.codex', 'skills') }
  if (opts.pythonHome === true) {
    // The Python version's home and CLI folders as its own code left them (its config has no skills key: on by default).
    const seed = join(ROOT, 'test', 'fixtures', 'seed-home')
    for (const [from, to] of [['ductor-home', '.ductor'], ['claude-home', '.claude'], ['codex-home', '.codex']] as const) await cp(join(seed, from), join(user, to), { recursive: true })
    execFileSync('chmod', ['-R', 'u+w', user])
  } else {
    await mkdir(join(user, '.claude'), { recursive: true })
    await mkdir(join(user, '.codex', 'skills', '.system', 'builtin'), { recursive: true })
  }
  // (The home's own config for the Python home; build removes nothing of a home it is given.)
  const { logs, stop } = await build(t, {
    home,
    config: opts.pythonHome === true ? null : testConfig({ skills: { sync: true } }),
    env: { HOME: user, CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' },
    prepare: async () => { await opts.before?.(w) },
    skillSyncMs: 100,
    listen: true
  })
  // After build's own hook (node:test runs them in order): the app is closed before its folders go.
  t.after(async () => { await rm(user, { recursive: true, force: true, maxRetries: 5 }) })
  return { ...w, close: async () => { await stop() }, logs }
}

/** Waits until `cond` holds (waitFor waits for a value other than undefined). */
const until = async (cond: () => Promise<boolean>, ms: number, what: string): Promise<void> => {
  await waitFor(async () => (await cond()) ? true : undefined, ms, what)
}

const kind = async (path: string): Promise<'dir' | 'link' | 'none' | 'file'> => {
  const s = await lstat(path).catch(() => null)
  return s === null ? 'none' : s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file'
}

async function skill (dir: string, name: string, description: string): Promise<string> {
  await mkdir(join(dir, name), { recursive: true })
  await writeFile(join(dir, name, 'SKILL.md'), `---\nname: ${name}\ndescription: ${description}\n---\n\n# ${name}\n`)
  return join(dir, name)
}

test('a skill created in any of the three places appears in the other two, and is removed from all three when deleted where it lives', async (t) => {
  const w = await world(t)
  // The shipped skill-writer is installed in the workspace and linked into both CLIs at start.
  assert.equal(await kind(join(w.ws, 'skill-writer')), 'dir')
  await until(async () => await kind(join(w.codex, 'skill-writer')) === 'link', 5000, 'the first sync')
  assert.equal(await readlink(join(w.claude, 'skill-writer')), join(w.ws, 'skill-writer'))
  assert.equal(await readlink(join(w.codex, 'skill-writer')), join(w.ws, 'skill-writer'))

  for (const [from, others] of [[w.claude, [w.ws, w.codex]], [w.ws, [w.claude, w.codex]], [w.codex, [w.ws, w.claude]]] as const) {
    const name = `made-in-${from === w.ws ? 'workspace' : from === w.claude ? 'claude' : 'codex'}`
    const real = await skill(from, name, 'does a thing')
    for (const other of others) {
      await until(async () => await kind(join(other, name)) === 'link', 5000, `${name} linked in ${other}`)
      assert.equal(await readlink(join(other, name)), real)
      assert.match(await readFile(join(other, name, 'SKILL.md'), 'utf8'), /description: does a thing/)
    }
    await rm(real, { recursive: true })
    for (const other of others) await until(async () => await kind(join(other, name)) === 'none', 5000, `${name} gone from ${other}`)
  }
  assert.equal(await kind(join(w.codex, '.system')), 'dir', 'hidden folders of the CLIs are left alone')
  assert.equal(await kind(join(w.ws, '.system')), 'none', 'and are not skills')
})

test('a link pointing outside the three folders is never followed, copied or removed; real folders are never overwritten; loose files are not skills', async (t) => {
  const w = await world(t)
  const outside = await mkdtemp(join(tmpdir(), 'ductor-outside-'))
  t.after(async () => { await rm(outside, { recursive: true, force: true }) })
  await skill(outside, 'elsewhere', 'lives outside')
  await symlink(join(outside, 'elsewhere'), join(w.claude, 'elsewhere'))
  await symlink('/etc', join(w.claude, 'etc-link'))
  await writeFile(join(w.claude, 'README.md'), 'a loose file')
  const claudeDup = await skill(w.claude, 'dup', 'the claude copy')
  const codexDup = await skill(w.codex, 'dup', 'the codex copy')
  await skill(w.codex, 'marker', 'a later skill, to know a sync ran after the ones above')
  await until(async () => await kind(join(w.ws, 'marker')) === 'link', 5000, 'a sync after the setup')
  await until(async () => await kind(join(w.ws, 'dup')) === 'link', 5000, 'dup linked in the workspace')

  for (const dir of [w.ws, w.codex]) {
    assert.equal(await kind(join(dir, 'elsewhere')), 'none', `the outside link is not copied to ${dir}`)
    assert.equal(await kind(join(dir, 'etc-link')), 'none')
    assert.equal(await kind(join(dir, 'README.md')), 'none')
  }
  assert.equal(await readlink(join(w.claude, 'elsewhere')), join(outside, 'elsewhere'), 'the user\'s own link stays')
  assert.equal(await readlink(join(w.ws, 'dup')), claudeDup, 'a name in two places: the workspace links the claude copy (ductor > claude > codex)')
  assert.equal(await kind(codexDup), 'dir', 'the codex copy is a real folder, never overwritten')
  assert.match(await readFile(join(codexDup, 'SKILL.md'), 'utf8'), /the codex copy/)

  // Deleting the outside target does not make its link "ours": it stays (broken) where the user put it.
  await rm(join(outside, 'elsewhere'), { recursive: true })
  await skill(w.codex, 'marker2', 'another sync')
  await until(async () => await kind(join(w.ws, 'marker2')) === 'link', 5000, 'another sync')
  assert.equal(await kind(join(w.claude, 'elsewhere')), 'link')

  // Shutdown removes our links from all three places; real folders and the user's links stay.
  await w.close()
  for (const dir of [w.ws, w.claude, w.codex]) {
    for (const name of await readdir(dir)) {
      if (dir === w.claude && ['elsewhere', 'etc-link'].includes(name)) continue
      assert.notEqual(await kind(join(dir, name)), 'link', `${join(dir, name)} is a link of ours left after shutdown`)
    }
  }
  assert.equal(await kind(join(w.ws, 'skill-writer')), 'dir')
  assert.equal(await kind(claudeDup), 'dir')
  assert.equal(await kind(join(w.claude, 'elsewhere')), 'link')
})

test('the shipped skill-writer is updated only while the user has not edited it', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'ductor-bundled-'))
  t.after(async () => { await rm(home, { recursive: true, force: true }) })
  await seedHome(home, { variant: 'both' })
  const file = join(homePaths(home).skills, 'skill-writer', 'SKILL.md')
  const shipped = await readFile(file, 'utf8')
  assert.match(shipped, /^---\nname: skill-writer\ndescription: .+\n---\n/)
  assert.match(shipped, /ductor skills/, 'it teaches the ductor way (the synced folders, ductor skills)')
  // An older shipped version (marker matches the file) is replaced by the new one.
  await writeFile(file, 'old shipped text')
  const { createHash } = await import('node:crypto')
  await writeFile(join(homePaths(home).skills, 'skill-writer', BUNDLED_MARKER), createHash('sha256').update('old shipped text').digest('hex'))
  await seedHome(home, { variant: 'both' })
  assert.equal(await readFile(file, 'utf8'), shipped)
  // Edited by the user: theirs, left alone.
  await writeFile(file, shipped + '\nMy own rule.\n')
  await seedHome(home, { variant: 'both' })
  assert.match(await readFile(file, 'utf8'), /My own rule\./)
})

test('ductor skills lists each skill, where it really lives and where it shows', async (t) => {
  const w = await world(t, { before: async (v) => { await mkdir(v.claude, { recursive: true }); await skill(v.claude, 'pdf-tricks', 'Split and merge PDFs with qpdf') } })
  await until(async () => await kind(join(w.codex, 'pdf-tricks')) === 'link', 5000, 'pdf-tricks linked')
  const env = { DUCTOR_HOME: w.home, HOME: w.user, CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' }
  const json = await ductor(['skills', '--json'], env)
  assert.equal(json.code, 0, json.stderr)
  const list = JSON.parse(json.stdout) as Array<{ name: string, home: string, in: string[], path: string, description: string }>
  assert.deepEqual(list.map((s) => [s.name, s.home, s.in, s.path]), [
    ['pdf-tricks', 'claude', ['ductor', 'claude', 'codex'], join(w.claude, 'pdf-tricks')],
    ['skill-writer', 'ductor', ['ductor', 'claude', 'codex'], join(w.ws, 'skill-writer')]
  ])
  assert.equal(list[0]?.description, 'Split and merge PDFs with qpdf')
  const text = await ductor(['skills'], env)
  assert.match(text.stdout, /^NAME\s+IN\s+REAL FOLDER\s+DESCRIPTION\npdf-tricks\s+workspace,claude,codex\s+\S+pdf-tricks\s+Split and merge PDFs with qpdf\n/)
})

test('/skills in Telegram lists the skills of the three places', async (t) => {
  const user = await mkdtemp(join(tmpdir(), 'ductor-skills-tg-'))
  t.after(async () => { await rm(user, { recursive: true, force: true, maxRetries: 5 }) })
  await mkdir(join(user, '.codex', 'skills'), { recursive: true })
  await skill(join(user, '.codex', 'skills'), 'deploy-site', 'Deploy the blog with rsync')
  const bot = await startBot(t, { config: { skills: { sync: true } }, env: { HOME: user, CLAUDE_CONFIG_DIR: '', CODEX_HOME: '' } })
  await bot.say('/skills')
  const reply = await bot.waitMessage((m) => m.text.startsWith('Skills'), 'the /skills answer')
  assert.match(reply.text, /^Skills \(2\)\n• deploy-site — Deploy the blog with rsync \(workspace, Codex; lives in Codex\)\n• skill-writer — Write or improve a skill/)
})

test('on a home from the Python version: its skills folders take part, its rule files in workspace/skills are not skills', async (t) => {
  const w = await world(t, { pythonHome: true })
  await until(async () => await kind(join(w.codex, 'skill-writer')) === 'link', 5000, 'the first sync')
  assert.equal(await readlink(join(w.claude, 'skill-writer')), join(w.ws, 'skill-writer'))
  for (const dir of [w.claude, w.codex]) {
    assert.deepEqual((await readdir(dir)).sort(), ['.gitkeep', 'skill-writer'], `${dir}: no CLAUDE.md/AGENTS.md linked over`)
  }
  assert.equal(await kind(join(w.ws, 'CLAUDE.md')), 'file')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkFileAccess } from '../../src/telegram/files-out.ts'
import { tempDir } from '../helper.ts'

test('even with file_access "all", ductor\'s own secrets (config/, webhooks.json) are never sent, not even through a symlink', async (t) => {
  const home = await tempDir(t)
  const workspace = join(home, 'workspace')
  await mkdir(join(home, 'config'), { recursive: true })
  await mkdir(workspace, { recursive: true })
  await writeFile(join(home, 'config', 'config.json'), '{"telegram":{"token":"123:SECRET"}}')
  await writeFile(join(home, 'webhooks.json'), '{"hooks":[]}')
  await writeFile(join(workspace, 'report.txt'), 'fine')
  await symlink(join(home, 'config', 'config.json'), join(workspace, 'innocent.txt'))
  const access = { mode: 'all' as const, home, userHome: home, workspace }

  assert.equal((await checkFileAccess(join(workspace, 'report.txt'), access)).ok, true)
  for (const path of [join(home, 'config', 'config.json'), join(home, 'webhooks.json'), join(workspace, 'innocent.txt')]) {
    const check = await checkFileAccess(path, access)
    assert.equal(check.ok, false, path)
    assert.match(check.ok ? '' : check.reason, /tokens and secrets/)
  }
})

test('file_access "home" means the user\'s home folder, as in the Python version (not the ductor home)', async (t) => {
  const userHome = await tempDir(t)
  const home = join(userHome, '.ductor')
  const workspace = join(home, 'workspace')
  await mkdir(workspace, { recursive: true })
  await mkdir(join(userHome, 'Documents'), { recursive: true })
  await writeFile(join(userHome, 'Documents', 'cv.pdf'), 'pdf')
  await writeFile(join(workspace, 'out.txt'), 'x')
  const elsewhere = await tempDir(t)
  await writeFile(join(elsewhere, 'other.txt'), 'x')
  const access = { mode: 'home' as const, home, userHome, workspace }
  assert.equal((await checkFileAccess(join(userHome, 'Documents', 'cv.pdf'), access)).ok, true, 'a file of the user\'s home is sendable')
  assert.equal((await checkFileAccess(join(workspace, 'out.txt'), access)).ok, true)
  const outside = await checkFileAccess(join(elsewhere, 'other.txt'), access)
  assert.equal(outside.ok, false)
  assert.match(outside.ok ? '' : outside.reason, /file_access is "home"/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../../helper.ts'
import { isSafeName, listHomeDir, resolveInHome, formatSize, sendRefusal } from '../../../src/telegram/panels/home-browser.ts'

async function homeWithEscapes (t: import('node:test').TestContext): Promise<{ root: string, outside: string }> {
  const root = await realpath(await tempDir(t))
  const outside = await realpath(await tempDir(t))
  await writeFile(join(outside, 'secret.txt'), 'outside')
  await mkdir(join(root, 'workspace', 'notes'), { recursive: true })
  await writeFile(join(root, 'workspace', 'notes', 'a.md'), 'hello')
  await writeFile(join(root, 'config.json'), '{}')
  await symlink(join(outside, 'secret.txt'), join(root, 'workspace', 'escape.txt'))
  await symlink(outside, join(root, 'workspace', 'escape-dir'))
  await symlink(join(root, 'workspace', 'notes'), join(root, 'notes-link'))
  await writeFile(join(root, 'workspace', 'bad\u0007name'), 'x')
  return { root, outside }
}

test('lists folders first, marks links, leaves out names with control characters', async (t) => {
  const { root } = await homeWithEscapes(t)
  const top = await listHomeDir(root, '')
  assert.ok(top.ok)
  assert.deepEqual(top.entries.map((e) => [e.name, e.kind, e.link]), [['notes-link', 'dir', true], ['workspace', 'dir', false], ['config.json', 'file', false]])
  const ws = await listHomeDir(root, 'workspace')
  assert.ok(ws.ok)
  assert.deepEqual(ws.entries.map((e) => e.name), ['escape-dir', 'notes', 'escape.txt'])
  assert.equal(ws.hidden, 1)
})

test('resolving never leaves the home: symlink escapes, .., separators and NUL are refused', async (t) => {
  const { root } = await homeWithEscapes(t)
  const ok = await resolveInHome(root, 'workspace/notes', 'a.md')
  assert.ok(ok.ok)
  assert.equal(ok.rel, 'workspace/notes/a.md')
  const viaLink = await resolveInHome(root, '', 'notes-link')
  assert.ok(viaLink.ok)
  assert.equal(viaLink.rel, 'workspace/notes')
  for (const [rel, name] of [['workspace', 'escape.txt'], ['workspace', 'escape-dir'], ['workspace/escape-dir', 'secret.txt']]) {
    const r = await resolveInHome(root, rel as string, name as string)
    assert.equal(r.ok, false, `${rel}/${name}`)
    assert.match((r as { reason: string }).reason, /outside the home|not allowed/)
  }
  for (const [rel, name] of [['', '..'], ['workspace/..', 'config.json'], ['', '../etc'], ['', 'a\u0000b'], ['', 'x\ny'], ['..', '']]) {
    const r = await resolveInHome(root, rel as string, name as string)
    assert.equal(r.ok, false, JSON.stringify([rel, name]))
  }
  assert.deepEqual(await resolveInHome(root, '', 'gone.txt'), { ok: false, reason: 'it is not there any more' })
  const list = await listHomeDir(root, 'workspace/escape-dir')
  assert.equal(list.ok, false)
})

test('safe names and sizes', () => {
  assert.equal(isSafeName('report 2026.pdf'), true)
  assert.equal(isSafeName('.env'), true)
  for (const n of ['', '.', '..', 'a/b', 'a\\b', 'a\u0000', '\u001b[31m', 'a\u0085']) assert.equal(isSafeName(n), false, JSON.stringify(n))
  assert.equal(formatSize(512), '512 B')
  assert.equal(formatSize(1536), '1.5 KB')
  assert.equal(formatSize(30 * 1024 * 1024), '30 MB')
})

test('files holding ductor\'s tokens, folders and files over 50 MB are not sent', () => {
  const file = (rel: string, size = 10): { rel: string, kind: 'file', size: number } => ({ rel, kind: 'file', size })
  assert.equal(sendRefusal(file('workspace/output_to_user/a.pdf'), 'a.pdf'), null)
  assert.match(sendRefusal(file('config/config.json'), 'config.json') ?? '', /holds ductor's tokens/)
  assert.match(sendRefusal(file('config/config.json.corrupt-2026'), 'x') ?? '', /holds ductor's tokens/)
  assert.match(sendRefusal(file('webhooks.json'), 'webhooks.json') ?? '', /holds ductor's tokens/)
  assert.equal(sendRefusal(file('workspace/config/notes.md'), 'notes.md'), null)
  assert.match(sendRefusal(file('big.bin', 51 * 1024 * 1024), 'big.bin') ?? '', /is 51 MB; Telegram takes files up to 50 MB/)
  assert.match(sendRefusal({ rel: 'fifo', kind: 'other', size: 0 }, 'fifo') ?? '', /not a regular file/)
})

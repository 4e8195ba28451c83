import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DuctorError } from '../../src/errors.ts'
import { createHookStore, type HookStoreOptions } from '../../src/webhooks/hook-store.ts'
import { tempDir } from './helpers.ts'

const NOW = Date.UTC(2025, 5, 1, 8, 30, 0)

/** A hook as the original Python ductor writes it, plus a field this edition does not know. */
const pythonHook = {
  id: 'email-notify',
  title: 'Neue Emails',
  description: 'Zapier pingt bei eingehenden Emails',
  mode: 'wake',
  prompt_template: 'Neue Email von {{from}}: {{subject}}',
  enabled: true,
  task_folder: null,
  auth_mode: 'bearer',
  token: 'tok_abc',
  hmac_secret: '',
  hmac_header: '',
  hmac_algorithm: 'sha256',
  hmac_encoding: 'hex',
  hmac_sig_prefix: 'sha256=',
  hmac_sig_regex: '',
  hmac_payload_prefix_regex: '',
  created_at: '2025-01-01T00:00:00+00:00',
  trigger_count: 7,
  last_triggered_at: '2025-05-01T10:00:00+00:00',
  last_error: null,
  provider: null,
  model: null,
  reasoning_effort: null,
  cli_parameters: [],
  quiet_start: null,
  quiet_end: null,
  dependency: null,
  parent_agent: 'main'
}
const minimalHook = { id: 'legacy', title: 'Legacy', mode: 'cron_task', prompt_template: '{{msg}}', task_folder: 'legacy-task' }

async function setup (t: import('node:test').TestContext, file?: unknown, extra: Partial<HookStoreOptions> = {}) {
  const dir = await tempDir(t)
  const path = join(dir, 'webhooks.json')
  if (file !== undefined) await writeFile(path, typeof file === 'string' ? file : JSON.stringify(file, null, 2))
  let n = 0
  const store = createHookStore({ path, clock: { now: () => NOW }, generateToken: () => `generated-token-${++n}`, ...extra })
  const summary = await store.load()
  const onDisk = async () => JSON.parse(await readFile(path, 'utf8'))
  return { dir, path, store, summary, onDisk }
}

async function rejectsWith (promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DuctorError, `expected DuctorError, got ${String(err)}`)
    assert.equal(err.code, code)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}

const newBearer = { id: 'gh-push', title: 'Pushes', mode: 'wake' as const, prompt_template: 'Push to {{repository.name}}' }

describe('loading', () => {
  test('a file written by the original loads and round-trips unchanged apart from filled defaults', async (t) => {
    const file = { hooks: [pythonHook, minimalHook], version: 1 }
    const { store, summary, onDisk } = await setup(t, file)
    assert.deepEqual(summary, { status: 'ok', hooks: 2, invalid: 0 })
    assert.equal(store.get('email-notify')?.trigger_count, 7)
    assert.equal(store.get('legacy')?.enabled, true)
    assert.equal(store.get('legacy')?.hmac_sig_prefix, 'sha256=')

    await store.create(newBearer) // any write
    const written = await onDisk()
    assert.equal(written.version, 1)
    const additions = { hmac_preset: null, dedupe_header: null, timestamp_tolerance_seconds: 300, dedupe_window_seconds: null, permission_mode: null }
    assert.deepEqual(written.hooks[0], { ...pythonHook, ...additions })
    assert.deepEqual(Object.keys(written.hooks[0]).slice(0, Object.keys(pythonHook).length), Object.keys(pythonHook))
    assert.deepEqual(written.hooks[1], {
      ...minimalHook,
      description: '',
      enabled: true,
      auth_mode: 'bearer',
      token: '',
      hmac_secret: '',
      hmac_header: '',
      hmac_algorithm: 'sha256',
      hmac_encoding: 'hex',
      hmac_sig_prefix: 'sha256=',
      hmac_sig_regex: '',
      hmac_payload_prefix_regex: '',
      created_at: '',
      trigger_count: 0,
      last_triggered_at: null,
      last_error: null,
      provider: null,
      model: null,
      reasoning_effort: null,
      cli_parameters: [],
      quiet_start: null,
      quiet_end: null,
      dependency: null,
      ...additions
    })
  })

  test('a missing file is an empty store and is created on the first write', async (t) => {
    const { store, summary, onDisk } = await setup(t)
    assert.deepEqual(summary, { status: 'missing', hooks: 0, invalid: 0 })
    assert.deepEqual(store.list(), [])
    await store.create(newBearer)
    assert.equal((await onDisk()).hooks.length, 1)
  })

  test('a file that is not JSON is refused with its line and column, and left as it is', async (t) => {
    await assert.rejects(setup(t, '{"hooks": [\n  {"id": "a",}\n]}'), (err: Error) => {
      assert.equal(err.name, 'UserFileError')
      assert.match(err.message, /webhooks\.json is not valid JSON: line 2, column 14: Expected double-quoted property name; ductor left it as it is/)
      return true
    })
  })

  test('a file of the wrong shape is refused too', async (t) => {
    await assert.rejects(setup(t, '[1, 2]'), /webhooks\.json: expected an object \{ "hooks": \[ … \] \}/)
  })

  test('an invalid entry is reported, not served, and kept in the file on write', async (t) => {
    const broken = { id: 'broken', title: 'B', mode: 'sometimes', prompt_template: 'x', quiet_start: 25, secret_thing: 'keep' }
    const { store, summary, onDisk } = await setup(t, { hooks: [broken, pythonHook, { ...pythonHook, title: 'dup' }] })
    assert.deepEqual(summary, { status: 'ok', hooks: 1, invalid: 2 })
    assert.equal(store.get('broken'), undefined)
    assert.equal(store.get('email-notify')?.title, 'Neue Emails')
    const invalid = store.invalid()
    assert.deepEqual(invalid.map((e) => [e.index, e.id]), [[0, 'broken'], [2, 'email-notify']])
    assert.deepEqual(invalid[0]?.problems.map((p) => p.path), ['/mode', '/quiet_start'])
    assert.match(invalid[0]?.problems[0]?.message ?? '', /wake, cron_task/)
    await store.recordTrigger('email-notify', { at: NOW, error: null })
    const written = await onDisk()
    assert.deepEqual(written.hooks[0], broken)
    assert.equal(written.hooks[2].title, 'dup')
    await rejectsWith(store.create({ ...newBearer, id: 'broken' }), 'conflict')
  })
})

describe('create', () => {
  test('fills the service fields, generates a url-safe token and persists', async (t) => {
    const { store, onDisk } = await setup(t, undefined, { generateToken: undefined })
    const hook = await store.create(newBearer)
    assert.equal(hook.created_at, new Date(NOW).toISOString())
    assert.equal(hook.trigger_count, 0)
    assert.match(hook.token, /^[A-Za-z0-9_-]{43,}$/)
    const other = await store.create({ ...newBearer, id: 'other' })
    assert.notEqual(other.token, hook.token)
    assert.deepEqual((await onDisk()).hooks.map((h: { id: string }) => h.id), ['gh-push', 'other'])
    assert.equal(store.get('gh-push'), hook)
  })

  test('keeps a token given by the caller; hmac hooks get none', async (t) => {
    const { store } = await setup(t)
    assert.equal((await store.create({ ...newBearer, token: 'mine' })).token, 'mine')
    const hmac = await store.create({ ...newBearer, id: 'signed', auth_mode: 'hmac', hmac_preset: 'github', hmac_secret: 's' })
    assert.equal(hmac.token, '')
  })

  test('ids are validated and unique', async (t) => {
    const { store } = await setup(t)
    for (const id of ['', 'Upper', '-lead', 'has space', 'a/b', 'x'.repeat(65), '../etc']) {
      await rejectsWith(store.create({ ...newBearer, id }), 'bad_request', /id must be/)
    }
    await store.create({ ...newBearer, id: '0' })
    await store.create({ ...newBearer, id: 'a'.repeat(64) })
    await rejectsWith(store.create({ ...newBearer, id: '0' }), 'conflict', /already exists/)
  })

  test('refuses unknown fields, service fields and unusable configurations with clear messages', async (t) => {
    const { store } = await setup(t)
    const bad = (input: Record<string, unknown>) => store.create({ ...newBearer, ...input })
    await rejectsWith(bad({ enabeld: false }), 'bad_request', /unknown field "enabeld"; settable fields: .*enabled/)
    await rejectsWith(bad({ trigger_count: 5 }), 'bad_request', /trigger_count is maintained by the service/)
    await rejectsWith(bad({ mode: 'later' }), 'bad_request', /mode must be one of wake, cron_task/)
    await rejectsWith(bad({ mode: 'cron_task' }), 'bad_request', /task_folder is required/)
    await rejectsWith(bad({ mode: 'cron_task', task_folder: '../x' }), 'bad_request', /task_folder must be a single folder name/)
    await rejectsWith(bad({ quiet_start: 24 }), 'bad_request', /quiet_start must be an hour 0-23/)
    await rejectsWith(bad({ auth_mode: 'hmac', hmac_secret: '' }), 'bad_request', /hmac_secret is required/)
    await rejectsWith(bad({ auth_mode: 'hmac', hmac_secret: 'top-secret-value' }), 'bad_request', /hmac_header must be a header name/)
    await rejectsWith(bad({ auth_mode: 'hmac', hmac_secret: 'top-secret-value', hmac_header: 'X-Sig', hmac_sig_regex: '(' }),
      'bad_request', /hmac_sig_regex is not a valid regular expression/)
    await rejectsWith(bad({ auth_mode: 'standard', hmac_secret: 'whsec_not*base64' }), 'bad_request', /Standard Webhooks secret/)
    await rejectsWith(bad({ hmac_preset: 'gitlab' }), 'bad_request', /hmac_preset must be one of github, stripe, slack, null/)
    await rejectsWith(bad({ dedupe_header: 'bad header' }), 'bad_request', /dedupe_header/)
    await rejectsWith(bad({ title: ' ' }), 'bad_request', /title must not be empty/)
    await rejectsWith(store.create(null as never), 'bad_request', /JSON object/)
    // Messages name fields, never secret values.
    await assert.rejects(bad({ auth_mode: 'hmac', hmac_secret: 'top-secret-value' }), (err: Error) => !err.message.includes('top-secret-value'))
    assert.deepEqual(store.list(), [])
  })
})

describe('update, delete, rotate', () => {
  test('update patches, validates and persists; the id and counters cannot be patched', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] })
    const updated = await store.update('email-notify', { enabled: false, model: 'sonnet' })
    assert.equal(updated.enabled, false)
    assert.equal(updated.trigger_count, 7)
    assert.equal((updated as Record<string, unknown>).parent_agent, 'main')
    assert.equal((await onDisk()).hooks[0].enabled, false)
    await rejectsWith(store.update('email-notify', { id: 'renamed' } as never), 'bad_request', /id cannot be changed/)
    await rejectsWith(store.update('email-notify', { trigger_count: 0 } as never), 'bad_request', /maintained by the service/)
    await rejectsWith(store.update('email-notify', { mode: 'cron_task' }), 'bad_request', /task_folder is required/)
    await rejectsWith(store.update('nope', { enabled: true }), 'not_found', /no webhook with id "nope"/)
    assert.equal(store.get('email-notify')?.model, 'sonnet')
  })

  test('a hook a file gave a model of the other provider loads and takes other changes; a change of provider or model must fit (ADR 49)', async (t) => {
    const { store } = await setup(t, { hooks: [{ ...pythonHook, provider: 'codex', model: 'opus' }] })
    assert.equal((await store.update('email-notify', { title: 'Renamed' })).title, 'Renamed')
    await rejectsWith(store.update('email-notify', { provider: 'codex' }), 'bad_request', /^invalid webhook: model "opus" is a Claude model, but the provider is codex; use one of .*, or set "provider": "claude" too$/)
    await rejectsWith(store.create({ ...newBearer, provider: 'claude', model: 'gpt-5' }), 'bad_request', /model "gpt-5" is a Codex model, but the provider is claude; use one of opus, sonnet, haiku or a claude-… id/)
    assert.equal((await store.update('email-notify', { model: 'gpt-5' })).model, 'gpt-5')
  })

  test('delete removes from memory and disk', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook, minimalHook] })
    const removed = await store.delete('legacy')
    assert.equal(removed.id, 'legacy')
    assert.equal(store.get('legacy'), undefined)
    assert.deepEqual((await onDisk()).hooks.map((h: { id: string }) => h.id), ['email-notify'])
    await rejectsWith(store.delete('legacy'), 'not_found')
  })

  test('rotateToken replaces the token of bearer hooks only', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] })
    const rotated = await store.rotateToken('email-notify')
    assert.equal(rotated.token, 'generated-token-1')
    assert.equal((await onDisk()).hooks[0].token, 'generated-token-1')
    await store.create({ ...newBearer, id: 'signed', auth_mode: 'hmac', hmac_preset: 'slack', hmac_secret: 's' })
    await rejectsWith(store.rotateToken('signed'), 'bad_request', /only bearer hooks/)
  })

  test('hooks handed out are frozen', async (t) => {
    const { store } = await setup(t, { hooks: [pythonHook] })
    const hook = store.get('email-notify')
    assert.ok(hook !== undefined)
    assert.throws(() => { (hook as { enabled: boolean }).enabled = false }, TypeError)
    assert.throws(() => { (hook.cli_parameters as string[]).push('--x') }, TypeError)
  })
})

describe('recordTrigger and concurrency', () => {
  test('counts dispatches and records the latest outcome', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] })
    const hook = await store.recordTrigger('email-notify', { at: NOW, error: 'error:timeout' })
    assert.equal(hook?.trigger_count, 8)
    assert.equal(hook?.last_triggered_at, new Date(NOW).toISOString())
    assert.equal(hook?.last_error, 'error:timeout')
    const stored = (await onDisk()).hooks[0]
    assert.equal(stored.trigger_count, 8)
    assert.equal(stored.last_error, 'error:timeout')
  })

  test('an older outcome finishing later counts but does not overwrite the newer one', async (t) => {
    const { store } = await setup(t, { hooks: [pythonHook] })
    await store.recordTrigger('email-notify', { at: NOW, error: null })
    const hook = await store.recordTrigger('email-notify', { at: NOW - 60_000, error: 'error:exit_1' })
    assert.equal(hook?.trigger_count, 9)
    assert.equal(hook?.last_triggered_at, new Date(NOW).toISOString())
    assert.equal(hook?.last_error, null)
  })

  test('a deleted hook is not an error', async (t) => {
    const { store } = await setup(t)
    assert.equal(await store.recordTrigger('gone', { at: NOW, error: null }), undefined)
  })

  test('concurrent writes lose nothing', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] })
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => store.recordTrigger('email-notify', { at: NOW + i, error: null })),
      store.create({ ...newBearer, id: 'a' }),
      store.update('email-notify', { description: 'changed' }),
      store.create({ ...newBearer, id: 'b' }),
      ...Array.from({ length: 20 }, (_, i) => store.recordTrigger('email-notify', { at: NOW + 100 + i, error: null }))
    ])
    const hook = store.get('email-notify')
    assert.equal(hook?.trigger_count, 47)
    assert.equal(hook?.description, 'changed')
    const written = await onDisk()
    assert.equal(written.hooks[0].trigger_count, 47)
    assert.equal(written.hooks[0].description, 'changed')
    assert.deepEqual(written.hooks.map((h: { id: string }) => h.id), ['email-notify', 'a', 'b'])
  })

  test('trigger counts are written at once after a quiet spell, then at most once per interval, shared by all that arrive meanwhile', async (t) => {
    let writes = 0
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] }, {
      triggerWriteIntervalMs: 300,
      guardWrite: async (write) => { writes++; await write() }
    })
    const started = performance.now()
    await store.recordTrigger('email-notify', { at: NOW, error: null })
    assert.equal(writes, 1, 'the first count is written at once')
    assert.ok(performance.now() - started < 250, 'without waiting for the interval')
    const later = await Promise.all(Array.from({ length: 10 }, (_, i) => store.recordTrigger('email-notify', { at: NOW + i + 1, error: null })))
    assert.equal(writes, 2, 'ten counts that arrive within the interval share one write')
    assert.ok(performance.now() - started >= 290, 'the second write waits out the interval')
    assert.deepEqual(later.map((h) => h?.trigger_count), Array.from({ length: 10 }, () => 18), 'each resolves once the batch is on disk, with the hook as written')
    assert.equal(later[0]?.last_triggered_at, new Date(NOW + 10).toISOString(), 'the latest outcome of the batch')
    assert.equal((await onDisk()).hooks[0].trigger_count, 18)
  })

  test('counts that share a write: all counted, the newest outcome kept whatever order they finish in', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] }, { triggerWriteIntervalMs: 200 })
    await store.recordTrigger('email-notify', { at: NOW, error: null })
    const shared = await Promise.all([
      store.recordTrigger('email-notify', { at: NOW + 5, error: 'error:timeout' }),
      store.recordTrigger('email-notify', { at: NOW + 1, error: 'error:exit_1' }),
      store.recordTrigger('gone', { at: NOW + 2, error: null })
    ])
    assert.equal(shared[2], undefined)
    const stored = (await onDisk()).hooks[0]
    assert.equal(stored.trigger_count, 10)
    assert.equal(stored.last_triggered_at, new Date(NOW + 5).toISOString())
    assert.equal(stored.last_error, 'error:timeout')
    assert.equal(shared[0]?.trigger_count, 10)
  })

  test('countTrigger: the counts of one write share one promise, settled once they are on disk; a failed write rejects it (ADR 0041)', async (t) => {
    let fail = false
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] }, {
      triggerWriteIntervalMs: 200,
      guardWrite: async (write) => { if (fail) throw new Error('disk full'); await write() }
    })
    await store.countTrigger('email-notify', { at: NOW, error: null })
    const counts = Array.from({ length: 5 }, (_, i) => store.countTrigger('email-notify', { at: NOW + i + 1, error: 'error:no_chat' }))
    assert.ok(counts.every((c) => c === counts[0]), 'one promise for the whole write')
    await counts[0]
    const stored = (await onDisk()).hooks[0]
    assert.equal(stored.trigger_count, 13)
    assert.equal(stored.last_error, 'error:no_chat')
    fail = true
    const failing = store.countTrigger('email-notify', { at: NOW + 9, error: null })
    assert.notEqual(failing, counts[0], 'a later write has a promise of its own')
    await assert.rejects(failing, /disk full/)
    assert.equal((await onDisk()).hooks[0].trigger_count, 13)
  })

  test('at shutdown a count waiting for its paced write is written at once, and later ones are not paced', async (t) => {
    const { store, onDisk } = await setup(t, { hooks: [pythonHook] }, { triggerWriteIntervalMs: 60_000 })
    await store.recordTrigger('email-notify', { at: NOW, error: null })
    const waiting = store.recordTrigger('email-notify', { at: NOW + 1, error: null })
    const started = performance.now()
    await store.flush()
    assert.equal((await waiting)?.trigger_count, 9)
    assert.equal((await onDisk()).hooks[0].trigger_count, 9, 'on disk when flush resolves, not a minute later')
    assert.equal((await store.recordTrigger('email-notify', { at: NOW + 2, error: null }))?.trigger_count, 10)
    assert.ok(performance.now() - started < 30_000, 'nothing waited for the interval')
  })

  test('a failed write leaves memory unchanged and does not block later writes', async (t) => {
    const { store, path } = await setup(t)
    await mkdir(join(path, 'blocker'), { recursive: true }) // the target is now a non-empty directory
    await rejectsWith(store.create(newBearer), 'storage_error')
    assert.deepEqual(store.list(), [])
    await rm(path, { recursive: true })
    await store.create(newBearer)
    assert.equal(store.list().length, 1)
  })
})

describe('reload', () => {
  test('picks up hand edits, but counters never go backwards', async (t) => {
    const { store, path } = await setup(t, { hooks: [pythonHook] })
    await store.recordTrigger('email-notify', { at: NOW, error: null })
    await writeFile(path, JSON.stringify({ hooks: [{ ...pythonHook, title: 'Edited' }, minimalHook] }))
    const summary = await store.reload()
    assert.deepEqual(summary, { status: 'ok', hooks: 2, invalid: 0 })
    const hook = store.get('email-notify')
    assert.equal(hook?.title, 'Edited')
    assert.equal(hook?.trigger_count, 8)
    assert.equal(hook?.last_triggered_at, new Date(NOW).toISOString())
    assert.equal(store.get('legacy')?.task_folder, 'legacy-task')
  })
})

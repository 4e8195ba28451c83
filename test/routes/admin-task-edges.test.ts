import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { build, testConfig, ADMIN_TOKEN } from '../helper.ts'

// The admin API's side of ADR 0042: quiet hours come whole, `token: ""` is the global token.
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
const hook = { title: 'x', mode: 'cron_task', prompt_template: 'x' }

test('half a quiet window is refused on create and on a change of the quiet hours; other changes of a file\'s half window still save', async (t) => {
  const { app } = await build(t, {
    prepare: async (paths) => {
      // What a hand edit or the Python version may leave: one bound only.
      await writeFile(paths.cronJobs, JSON.stringify({ jobs: [{ id: 'old', title: 'old', schedule: '0 8 * * *', task_folder: 'old', agent_instruction: 'x', quiet_start: 22 }] }))
      await writeFile(paths.webhooks, JSON.stringify({ hooks: [{ id: 'old', ...hook, task_folder: 'old', quiet_end: 6 }] }))
    }
  })
  const call = async (method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown>): Promise<{ status: number, message: string }> => {
    const res = await app.inject({ method, url, headers: auth, payload })
    return { status: res.statusCode, message: (res.json() as { message?: string }).message ?? '' }
  }
  const startOnly = 'quiet_start is set but quiet_end is not: quiet hours need both (local hours 0-23, e.g. quiet_start 22 and quiet_end 7 skip runs from 22:00 to 06:59), or neither for none'
  assert.deepEqual(await call('POST', '/api/cron', { id: 'a', title: 'a', schedule: '0 7 * * *', quiet_start: 7 }), { status: 400, message: startOnly })
  assert.deepEqual(await call('POST', '/api/webhooks', { id: 'a', ...hook, task_folder: 'a', quiet_start: 7 }), { status: 400, message: `invalid webhook: ${startOnly}` })
  assert.match((await call('POST', '/api/cron', { id: 'a', title: 'a', schedule: '0 7 * * *', quiet_end: 7 })).message, /^quiet_end is set but quiet_start is not/)
  assert.equal((await call('PATCH', '/api/cron/old', { quiet_end: null })).status, 400, 'a change that leaves half a window')
  assert.equal((await call('PATCH', '/api/webhooks/old', { quiet_start: null })).status, 400)

  assert.equal((await call('PATCH', '/api/cron/old', { enabled: false })).status, 200, 'an unrelated change saves')
  assert.equal((await call('PATCH', '/api/webhooks/old', { description: 'kept' })).status, 200)
  assert.equal((await call('PATCH', '/api/cron/old', { quiet_end: 6 })).status, 200, 'completing the window saves')
  assert.equal((await call('PATCH', '/api/webhooks/old', { quiet_start: null, quiet_end: null })).status, 200, 'clearing both saves')
  // The API's own messages keep naming its fields.
  assert.deepEqual(await call('POST', '/api/webhooks', { id: 'b', ...hook, title: '' }), { status: 400, message: 'title in the body must not be empty' })
})

test('token "" on create is the global webhooks.token (no token generated), as on PATCH', async (t) => {
  const { app } = await build(t, { config: testConfig({ webhooks: { enabled: true, token: 'global-hook-token-0123456789abcdef' } }) })
  const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'g', title: 'g', mode: 'wake', prompt_template: 'x', token: '' } })
  assert.equal(created.statusCode, 201, created.body)
  assert.equal(created.json().hook.token_set, false)
  assert.equal('token' in created.json(), false, 'no token was generated to show')
  assert.match(created.json().auth.instructions, /global webhooks\.token/)
  const generated = await app.inject({ method: 'POST', url: '/api/webhooks', headers: auth, payload: { id: 'own', title: 'own', mode: 'wake', prompt_template: 'x' } })
  assert.match(generated.json().token, /^[A-Za-z0-9_-]{43}$/, 'left out, a token is generated as before')
})

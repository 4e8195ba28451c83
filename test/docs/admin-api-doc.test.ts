import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { build, fakeClis, testConfig, waitFor, ADMIN_TOKEN, ROOT } from '../helper.ts'
import { buildCli } from '../../src/cli/main.ts'

/**
 * docs/admin-api.md cannot drift: every curl on the page is run, in order, against the whole app
 * (fake CLIs), and its answer is compared with the sample shown after it (status family, error code,
 * the keys of every object; an object with a "…" key only promises the keys it shows). Every route of
 * /api/openapi.json must appear in some curl, and every `ductor …` command named must exist.
 */

interface Block { lang: string, body: string }
interface Curl { method: string, url: string, headers: Record<string, string>, body?: string, line: string }

function blocks (markdown: string): Block[] {
  return [...markdown.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }))
}

function shellWords (line: string): string[] {
  const words: string[] = []
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? m[3] ?? '')
  }
  return words
}

function parseCurl (line: string, vars: Record<string, string>): Curl {
  const words = shellWords(line).slice(1).map((w) => w.replace(/\$([A-Z_]+)/g, (_, name: string) => vars[name] ?? `$${name}`))
  const curl: Curl = { method: 'GET', url: '', headers: {}, line }
  while (words.length > 0) {
    const word = words.shift() ?? ''
    if (word === '-X') curl.method = words.shift() ?? ''
    else if (word === '-H') {
      const [name = '', ...value] = (words.shift() ?? '').split(':')
      curl.headers[name.trim().toLowerCase()] = value.join(':').trim()
    } else if (word === '-d') curl.body = words.shift()
    else if (word === '-o') words.shift()
    else if (word.startsWith('-')) assert.match(word, /^-[sN]+$/, `${line}: unknown curl option ${word}`)
    else curl.url = word
  }
  if (curl.body !== undefined && curl.method === 'GET') curl.method = 'POST'
  assert.ok(curl.url.startsWith('/api/'), `${line}: the URL starts with $API/api/`)
  return curl
}

/** Same keys at every level (objects with a "…" key: the shown keys exist); arrays compare their first items. */
function sameShape (actual: unknown, sample: unknown, at: string): void {
  if (sample === null || typeof sample !== 'object' || actual === null || typeof actual !== 'object') return
  if (Array.isArray(sample)) {
    assert.ok(Array.isArray(actual), `${at} is an array`)
    if (sample.length > 0 && typeof sample[0] === 'object') {
      assert.ok(actual.length > 0, `${at} is not empty, as in the sample`)
      sameShape(actual[0], sample[0], `${at}[0]`)
    }
    return
  }
  const shown = Object.keys(sample).filter((k) => k !== '…')
  const keys = Object.keys(actual)
  if ('…' in sample) {
    for (const key of shown) assert.ok(keys.includes(key), `${at}.${key} exists`)
  } else {
    assert.deepEqual(keys.sort(), [...shown].sort(), `${at} has the keys of the sample`)
  }
  for (const key of shown) sameShape((actual as Record<string, unknown>)[key], (sample as Record<string, unknown>)[key], `${at}.${key}`)
}

function checkCommand (program: Command, text: string): void {
  let command = program
  for (const word of text.split(/\s+/).slice(1).map((w) => w.replace(/^[[(]+/, ''))) {
    if (word === '--help') continue
    if (word.startsWith('--')) {
      const flag = /^--[a-z-]*[a-z]/.exec(word)?.[0] ?? word
      assert.ok(command.options.some((o) => o.long === flag), `\`${text}\`: ${command.name()} has no option ${flag}`)
      continue
    }
    const sub = command.commands.find((c) => c.name() === word)
    if (sub !== undefined) command = sub
    else if (/^[a-z]+$/.test(word) && command === program) assert.fail(`\`${text}\`: no command ductor ${word}`)
  }
}

test('every curl in docs/admin-api.md works as shown, and the page covers every route and command', async (t) => {
  const text = await readFile(join(ROOT, 'docs', 'admin-api.md'), 'utf8')
  const bin = await fakeClis(t)
  const { app } = await build(t, {
    config: testConfig({ allowed_user_ids: [123456789], user_timezone: 'Europe/Berlin' }),
    env: { ...bin.env, FAKE_CLI_REPLY: 'Hello! How can I help?' }
  })
  const vars: Record<string, string> = { API: '', TOKEN: ADMIN_TOKEN }
  const all = blocks(text)
  const ran: Curl[] = []
  let hanging: Promise<unknown> | null = null
  for (const [i, block] of all.entries()) {
    if (block.lang !== 'sh') continue
    const lines = block.body.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('curl '))
    const next = all[i + 1]
    for (const [n, line] of lines.entries()) {
      const curl = parseCurl(line, vars)
      // A reader takes longer than a test between two commands: a job started by hand has ended by the next one.
      await waitFor(() => app.automation.cron.running().length === 0 ? true : undefined, 20_000, 'cron runs to end')
      if (curl.url === '/api/runs/active' && hanging === null) {
        // The page shows a run in progress and aborts it: start one that waits to be stopped.
        hanging = app.inject({ method: 'POST', url: '/api/chats/cli/messages', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { text: '[[hang]] wait' } })
        const run = await waitFor(() => app.runner.registry.list().find((p) => p.chatId === 'cli'), 10_000, 'the run to start')
        vars['RUN_ID'] = run.runId
        curl.url = parseCurl(line, vars).url
      }
      if (curl.url.includes('$RUN_ID')) curl.url = curl.url.replace('$RUN_ID', vars['RUN_ID'] ?? '')
      const res = await app.inject({ method: curl.method as 'GET', url: curl.url, headers: curl.headers, ...(curl.body !== undefined && { payload: curl.body }) })
      ran.push(curl)
      // `POST /api/cron/:id/run` answers the id of its run: later curls show it as $RUN_ID.
      const runId = String(res.headers['content-type'] ?? '').includes('json') ? (res.json() as { run_id?: unknown }).run_id : undefined
      if (typeof runId === 'string') vars['RUN_ID'] = runId
      const sample = n === lines.length - 1 && next !== undefined && next.lang !== 'sh' ? next : undefined
      if (sample?.lang === 'text') {
        assert.equal(res.statusCode, 200, `${line}: ${res.body}`)
        for (const event of new Set([...sample.body.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]))) assert.match(res.body, new RegExp(`^event: ${event ?? ''}$`, 'm'), `${line} streams ${event ?? ''}`)
        continue
      }
      const expected = sample?.lang === 'json' ? JSON.parse(sample.body) as Record<string, unknown> : undefined
      if (expected !== undefined && typeof expected['error'] === 'string' && typeof expected['message'] === 'string') {
        assert.equal(res.json().error, expected['error'], `${line}: ${res.body}`)
        assert.equal(res.json().message, expected['message'], `${line}: the message shown`)
        continue
      }
      assert.ok(res.statusCode >= 200 && res.statusCode < 300, `${line}: ${res.statusCode} ${res.body}`)
      if (expected === undefined) continue
      // A run started by the curl before may still be on its way into the history: read again until it is there.
      let body: unknown = res.json()
      await waitFor(async () => {
        try {
          sameShape(body, expected, line)
          return true
        } catch (err) {
          if (curl.method !== 'GET') throw err
          body = (await app.inject({ method: 'GET', url: curl.url, headers: curl.headers })).json()
          return undefined
        }
      }, 10_000, `${line} to answer like the sample`).catch(() => sameShape(body, expected, line))
    }
  }
  await hanging

  const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as { paths: Record<string, Record<string, unknown>> }
  for (const [path, methods] of Object.entries(spec.paths)) {
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`)
    for (const method of Object.keys(methods)) {
      assert.ok(ran.some((c) => c.method === method.toUpperCase() && pattern.test(c.url)), `the page shows a curl for ${method.toUpperCase()} ${path}`)
    }
  }
  for (const c of ran) {
    const known = c.url === '/api/openapi.json' || Object.keys(spec.paths).some((path) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`).test(c.url))
    assert.ok(known, `${c.line}: the path is in /api/openapi.json`)
  }

  const program = buildCli()
  for (const m of text.matchAll(/`(ductor [^`]+)`/g)) checkCommand(program, m[1] ?? '')
})

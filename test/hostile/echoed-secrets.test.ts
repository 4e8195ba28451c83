// The agent may echo a live secret (it holds the admin token by design, and can read files). Its
// output is masked before it leaves the process: Telegram (streamed edits and the final message), the
// admin API (JSON and SSE), cron deliveries and the run history show `[REDACTED]` instead.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ADMIN_TOKEN } from '../helper.ts'
import { cleanups, scriptMarker, startBot, type BotHarness, type ScriptStep } from '../telegram/helpers.ts'

const entities: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' }
/** What a Telegram reader sees of an HTML text, without whitespace. */
function visible (html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&(lt|gt|quot|#39|amp);/g, (e) => entities[e] ?? e).replace(/\s+/g, '')
}

/** The deltas of an SSE reply's `text` events, in order (a client shows them joined). */
function sseText (body: string): string[] {
  return [...body.matchAll(/^event: text\ndata: (.*)$/gm)].map((m) => String((JSON.parse(m[1] ?? '{}') as { text?: unknown }).text ?? ''))
}

describe('secrets the agent echoes are masked in everything it says', () => {
  let bot: BotHarness
  let adminUrl: string
  let secrets: Record<string, string>
  let script: string
  const cleanup = cleanups()
  after(cleanup.run)
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, text: string }> => {
    const res = await fetch(adminUrl + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: res.status, text: await res.text() }
  }
  /**
   * The secrets a reader could put together from `texts` (in the order they were sent): Telegram's
   * HTML reduced to what it shows (tags dropped, entities decoded) and whitespace removed, each text
   * alone and all of them one after the other. So a secret split by a line break or a space, by
   * markup (`a_b_c` rendered as italics) or by the boundary between two messages still counts.
   */
  const leaks = (...texts: string[]): string[] => {
    const shown = texts.map(visible)
    const together = shown.join('')
    return Object.entries(secrets).filter(([, s]) => shown.some((t) => t.includes(s)) || together.includes(s)).map(([name]) => name)
  }
  /** Every text Telegram was sent for `chat` (messages and edits), in order. */
  const sentTo = (chat: number): string[] => bot.fake.calls.filter((c) => Number(c.params.chat_id) === chat && typeof c.params.text === 'string').map((c) => String(c.params.text))

  before(async () => {
    bot = await startBot(cleanup, { config: { webhooks: { enabled: true }, streaming: { enabled: true, edit_interval_seconds: 0.5 } } })
    adminUrl = await bot.app.listenAdmin({ host: '127.0.0.1', port: 0 })
    const created = await api('POST', '/api/webhooks', { id: 'ci', title: 'CI', mode: 'wake', prompt_template: 'Build {{status}}' })
    assert.equal(created.status, 201, created.text)
    secrets = { bot: bot.fake.token, admin: ADMIN_TOKEN, hook: JSON.parse(created.text).token as string }
    // The reply streams in deltas of one text block that split each secret in two, with pauses so
    // Telegram sees edits in between.
    const cut = (s: string): [string, string] => [s.slice(0, 6), s.slice(6)]
    const [b1, b2] = cut(secrets['bot'] ?? '')
    const [a1, a2] = cut(secrets['admin'] ?? '')
    const [h1, h2] = cut(secrets['hook'] ?? '')
    const reply = `bot ${b1}${b2}, admin ${a1}${a2}, hook ${h1}${h2}.`
    script = await scriptMarker(bot.home, [{ delta: `bot ${b1}` }, { pause: 3 }, { delta: `${b2}, admin ${a1}` }, { pause: 3 }, { delta: `${a2}, hook ${h1}` }, { pause: 3 }, { delta: `${h2}.` }], reply)
  })

  test('Telegram: neither the streamed edits nor the final message hold a secret', async () => {
    const chat = 113
    await bot.say(`what do you know? ${script} [[delay:60]]`, { chatId: chat, from: chat })
    const done = await bot.waitMessage((m) => m.text.startsWith('bot ') && m.text.endsWith('.'), 'the final reply', chat)
    assert.equal(done.text, 'bot [REDACTED], admin [REDACTED], hook [REDACTED].')
    const sent = sentTo(chat)
    assert.ok(sent.length > 1, 'the reply was streamed')
    assert.deepEqual(leaks(...sent), [], `sent: ${JSON.stringify(sent)}`)
  })

  test('Telegram: a secret at the 4096-character cut between two messages is not in either half', async () => {
    const chat = 117
    const admin = secrets['admin'] ?? ''
    // No space before the secret: the cut falls inside it (or inside its mask).
    const reply = `${'x'.repeat(4090)}${admin} and ${secrets['hook'] ?? ''} end.`
    // Pauses (60 ms a line) longer than the edit interval: Telegram is sent the text with the cut secret.
    const long = await scriptMarker(bot.home, [{ delta: reply.slice(0, 3000) }, { pause: 12 }, { delta: reply.slice(3000, 4093) }, { pause: 12 }, { delta: reply.slice(4093) }, { pause: 12 }], reply)
    await bot.say(`a long one ${long} [[delay:60]]`, { chatId: chat, from: chat })
    await bot.waitMessage((m) => m.text.endsWith('end.'), 'the second half', chat)
    const sent = sentTo(chat)
    assert.ok(sent.some((t) => t.startsWith('xxxx')) && sent.some((t) => t.endsWith('end.') && !t.startsWith('x')), `two messages: ${JSON.stringify(sent.map((t) => t.length))}`)
    assert.deepEqual(leaks(...sent), [], `sent: ${JSON.stringify(sent)}`)
  })

  /**
   * A reply that splits the admin token by a line break, writes the bot token with Markdown in it
   * (`\-` escapes, `**bold**`) and cuts a hook token in two with a tool call between the halves, as
   * Claude streams it: deltas, then the tool call, then the last text block, which is also the result.
   */
  const splitScript = async (): Promise<{ marker: string, reply: string }> => {
    const admin = secrets['admin'] ?? ''
    const hook = secrets['hook'] ?? ''
    const marked = (secrets['bot'] ?? '').replace(':', ':**').replace('-', '**\\-').replaceAll('-t', '\\-t')
    const reply = `${hook.slice(7)} done.`
    const steps: ScriptStep[] = [
      { delta: `split ${admin.slice(0, 9)}` }, { pause: 12 },
      { delta: `\n${admin.slice(9)}, marked ${marked.slice(0, 9)}` }, { pause: 12 },
      { delta: `${marked.slice(9)} and ${hook.slice(0, 7)}` }, { pause: 12 },
      { tool: 'Bash', input: { command: 'ls' } }, { pause: 12 },
      { delta: reply }
    ]
    return { marker: await scriptMarker(bot.home, steps, reply), reply }
  }

  test('Telegram: a secret split by a line break, by Markdown or by a tool call is masked', async () => {
    const chat = 118
    const { marker } = await splitScript()
    await bot.say(`split them ${marker} [[delay:60]]`, { chatId: chat, from: chat })
    const done = await bot.waitMessage((m) => m.text.endsWith('done.'), 'the final reply', chat)
    const sent = sentTo(chat)
    assert.ok(sent.length > 2, 'the reply was streamed')
    assert.deepEqual(leaks(...sent), [], `sent: ${JSON.stringify(sent)}`)
    assert.ok(sent.some((t) => t.startsWith('split [REDACTED], marked [REDACTED] and')), `sent: ${JSON.stringify(sent)}`)
    assert.equal(done.text, '[REDACTED] done.')
  })

  test('admin API: a secret split by a line break, by Markdown or by a tool call is masked in the SSE stream and the reply', async () => {
    const { marker } = await splitScript()
    const sse = await api('POST', '/api/chats/119/messages', { text: `split them ${marker}` }, { accept: 'text/event-stream' })
    const deltas = sseText(sse.text)
    assert.ok(deltas.length > 1, 'the reply was streamed')
    assert.match(sse.text, /event: tool/)
    assert.deepEqual(leaks(sse.text, deltas.join('')), [], sse.text)
    assert.equal(deltas.join(''), 'split [REDACTED], marked [REDACTED] and [REDACTED] done.')
    const json = await api('POST', '/api/chats/119/messages', { text: `again ${marker}` })
    assert.equal(JSON.parse(json.text).reply, '[REDACTED] done.')
  })

  test('admin API: the JSON reply, the SSE stream and the run history show the mask', async () => {
    const json = await api('POST', '/api/chats/114/messages', { text: `and now? ${script}` })
    assert.equal(json.status, 200, json.text)
    assert.equal(JSON.parse(json.text).reply, 'bot [REDACTED], admin [REDACTED], hook [REDACTED].')
    const sse = await api('POST', '/api/chats/114/messages', { text: `once more ${script}` }, { accept: 'text/event-stream' })
    assert.match(sse.text, /event: text/)
    assert.match(sse.text, /\[REDACTED\]/)
    const deltas = sseText(sse.text)
    assert.ok(deltas.length > 1, 'the reply was streamed')
    assert.deepEqual(leaks(sse.text, deltas.join('')), [], sse.text)
    const runs = await api('GET', '/api/runs?limit=100')
    assert.deepEqual(leaks(runs.text), [])
  })

  test('a hook token rotated at run time is masked from then on', async () => {
    const rotated = await api('POST', '/api/webhooks/ci/rotate-token')
    assert.equal(rotated.status, 200, rotated.text)
    const token = JSON.parse(rotated.text).token as string
    const echo = await scriptMarker(bot.home, [{ delta: `new ${token.slice(0, 5)}` }, { delta: `${token.slice(5)} here` }], `new ${token} here`)
    const res = await api('POST', '/api/chats/116/messages', { text: `the new one? ${echo}` }, { accept: 'text/event-stream' })
    const shown = visible(sseText(res.text).join(''))
    assert.ok(!shown.includes(token), res.text)
    assert.match(sseText(res.text).join(''), /new \[REDACTED\] here/)
  })

  test('a cron job\'s result delivered to Telegram shows the mask', async () => {
    const created = await api('POST', '/api/cron', { id: 'leaky', title: 'Leaky', schedule: '0 9 * * *', agent_instruction: `report ${script}` })
    assert.equal(created.status, 201, created.text)
    assert.equal((await api('POST', '/api/cron/leaky/run')).status, 202)
    const delivered = await bot.waitMessage((m) => m.text.includes('admin [REDACTED]'), 'the delivery', 115)
    assert.deepEqual(leaks(delivered.text), [])
    const runs = await api('GET', '/api/cron/leaky/runs')
    assert.deepEqual(leaks(runs.text), [])
  })
})

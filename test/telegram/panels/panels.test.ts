import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CLAUDE_MODELS, CODEX_MODELS, REASONING_EFFORTS, setCodexCatalog } from '../../../src/models.ts'
import { effortView, modelsView, parseModelData, providersView } from '../../../src/telegram/panels/model-panel.ts'
import { cronView, formatInZone, jobKey, parseCronData, type CronRow } from '../../../src/telegram/panels/cron-panel.ts'
import { createTokenStore, filesView, parseFilesData, type FilesView } from '../../../src/telegram/panels/files-panel.ts'
import { button, type Panel } from '../../../src/telegram/panels/keyboard.ts'

const allData = (panel: Panel): string[] => panel.keyboard.flat().map((b) => b.callback_data)
const texts = (panel: Panel): string[] => panel.keyboard.flat().map((b) => b.text)
const fits = (panel: Panel): void => {
  for (const d of allData(panel)) assert.ok(Buffer.byteLength(d) <= 64, `${d} is over 64 bytes`)
}

test('button refuses callback data over 64 bytes', () => {
  assert.throws(() => button('x', 'a'.repeat(65)), /64 bytes/)
  assert.equal(button('x', 'é'.repeat(32)).callback_data.length, 32)
})

test('model panel: provider → model → effort, every press parses back to what it shows', () => {
  setCodexCatalog(null) // the built-in Codex list: no codex was asked in this test
  const current = { provider: 'claude' as const, model: 'opus', effort: 'medium' }
  const providers = providersView(current)
  assert.deepEqual(texts(providers), ['✓ Claude Code', 'Codex'])
  assert.deepEqual(allData(providers).map(parseModelData), [{ kind: 'provider', provider: 'claude' }, { kind: 'provider', provider: 'codex' }])
  const codex = modelsView('codex', current)
  assert.deepEqual(texts(codex).slice(0, CODEX_MODELS.length), [...CODEX_MODELS])
  assert.deepEqual(parseModelData(allData(codex)[0] ?? ''), { kind: 'model', model: CODEX_MODELS[0] })
  assert.deepEqual(parseModelData(allData(codex).at(-1) ?? ''), { kind: 'providers' })
  const claude = modelsView('claude', current)
  assert.equal(texts(claude)[0], `✓ ${CLAUDE_MODELS[0]}`)
  const efforts = effortView('gpt-5.5', { provider: 'codex', model: 'gpt-5.5', effort: 'high' })
  assert.deepEqual(texts(efforts).slice(0, 4), REASONING_EFFORTS.map((e) => e === 'high' ? '✓ high' : e))
  assert.deepEqual(parseModelData(allData(efforts)[3] ?? ''), { kind: 'effort', model: 'gpt-5.5', effort: 'xhigh' })
  for (const p of [providers, codex, claude, efforts]) fits(p)
})

test('model panel: foreign or forged data is not a model action', () => {
  for (const d of ['mdl:p:gemini', 'mdl:m:not-a-model', 'mdl:e:opus:high', 'mdl:e:gpt-5.5:extreme', 'model claude', 'crn:p:0', '']) {
    assert.equal(parseModelData(d), null, d)
  }
})

const row = (i: number, over: Partial<CronRow> = {}): CronRow => ({
  id: `job-${i}`, title: `Job ${i}`, schedule: '0 8 * * *', enabled: true, zone: 'Europe/Berlin', next: Date.UTC(2026, 11, 2, 7, 0), lastStatus: null, running: false, ...over
})

test('cron panel: jobs with schedule, next run in their zone, last status; paging by 5', () => {
  const rows = Array.from({ length: 12 }, (_, i) => row(i, i === 1 ? { enabled: false, lastStatus: 'error:timeout' } : {}))
  const first = cronView(rows, 0)
  assert.match(first.html, /Cron jobs<\/b>: 12, 11 enabled · page 1\/3/)
  assert.match(first.html, /✅ <b>Job 0<\/b> · <code>0 8 \* \* \*<\/code>\n {4}next Wed 2 Dec, 08:00 \(Europe\/Berlin\) · last: never run/)
  assert.match(first.html, /⏸ <b>Job 1<\/b>.*\n {4}disabled · last: error:timeout/)
  assert.deepEqual(texts(first).slice(0, 2), ['⏸ Disable Job 0', '▶ Enable Job 1'])
  assert.deepEqual(texts(first).slice(5), ['1/3', 'Next »', 'All on', 'All off', '↻ Refresh'])
  assert.deepEqual(parseCronData(allData(first)[1] ?? ''), { kind: 'toggle', page: 0, key: jobKey('job-1') })
  const last = cronView(rows, 7)
  assert.match(last.html, /page 3\/3/)
  assert.deepEqual(texts(last).slice(0, 2), ['⏸ Disable Job 10', '⏸ Disable Job 11'])
  assert.deepEqual(parseCronData(allData(last).find((d) => d.includes(':a:')) ?? ''), { kind: 'all', page: 2, enabled: true })
  fits(first)
  const huge = cronView(Array.from({ length: 5 }, (_, i) => row(i, { id: 'x'.repeat(63) + String(i), title: 'y'.repeat(5000), lastStatus: 'z'.repeat(100) })), 0, 'n'.repeat(190))
  fits(huge)
  assert.ok(huge.html.length < 4096, `${huge.html.length} characters`)
})

test('cron panel: no jobs says how to make one; forged data is refused', () => {
  const empty = cronView([], 0)
  assert.match(empty.html, /No cron jobs yet/)
  assert.deepEqual(texts(empty), ['↻ Refresh'])
  for (const d of ['crn:t:0:short', 'crn:p:x', 'crn:a:0:2', 'mdl:b', 'crn:t:0:' + 'a'.repeat(11)]) assert.equal(parseCronData(d), null, d)
})

test('formatInZone shows the wall clock of the zone', () => {
  const at = Date.UTC(2026, 6, 1, 6, 30)
  assert.equal(formatInZone(at, 'Europe/Berlin'), 'Wed 1 Jul, 08:30')
  assert.equal(formatInZone(at, 'America/New_York'), 'Wed 1 Jul, 02:30')
})

test('files panel: entries by index, up and paging, all under 64 bytes', () => {
  const entries = Array.from({ length: 10 }, (_, i) => ({ name: i < 2 ? `dir${i}` : `${'long-name-'.repeat(10)}${i}.txt`, kind: i < 2 ? 'dir' as const : 'file' as const, size: 2048, link: false }))
  const view: FilesView = { chatId: '1', rel: 'workspace', entries, hidden: 1, page: 0, gen: 3 }
  const panel = filesView('abcdEFGH', view)
  assert.match(panel.html, /<code>home\/workspace<\/code>\n10 entries · page 1\/2\n1 with unusual names not shown/)
  assert.equal(texts(panel)[0], '📁 dir0')
  assert.match(texts(panel)[2] ?? '', /^📄 long-name-.*… · 2\.0 KB$/)
  assert.deepEqual(texts(panel).slice(8), ['⬆ Up', 'Next »'])
  assert.deepEqual(parseFilesData(allData(panel)[2] ?? ''), { token: 'abcdEFGH', gen: 3, action: { kind: 'open', index: 2 } })
  assert.deepEqual(parseFilesData(allData(panel)[8] ?? ''), { token: 'abcdEFGH', gen: 3, action: { kind: 'up' } })
  const second = filesView('abcdEFGH', { ...view, page: 1, rel: '' })
  assert.deepEqual(texts(second).slice(2), ['« Prev'])
  assert.deepEqual(parseFilesData(allData(second)[0] ?? ''), { token: 'abcdEFGH', gen: 3, action: { kind: 'open', index: 8 } })
  fits(panel)
  for (const d of ['fls:abc:1:o1', 'fls:abcdEFGH:1:x', 'fls:abcdEFGH:1:o1/..', 'fls:../../et:1:u']) assert.equal(parseFilesData(d), null, d)
})

test('token store forgets the oldest beyond its size', () => {
  const store = createTokenStore<number>(3)
  const tokens = [1, 2, 3, 4].map((n) => store.create(n))
  assert.equal(store.size, 3)
  assert.equal(store.get(tokens[0] ?? ''), undefined)
  assert.equal(store.get(tokens[3] ?? ''), 4)
  assert.match(tokens[0] ?? '', /^[A-Za-z0-9_-]{8}$/)
})

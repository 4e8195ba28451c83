import { test } from 'node:test'
import assert from 'node:assert/strict'
import { callbackDataFor, collapseToolIndicators, cutUtf8, extractMarkers, stripMarkersLive } from '../../../src/telegram/format/markers.ts'

test('buttons on one line share a row and are removed from the text', () => {
  const r = extractMarkers('Which one?\n[button:Yes] [button:No]\n[button:Later]\nBye')
  assert.equal(r.text, 'Which one?\nBye')
  assert.deepEqual(r.buttons, [
    [{ text: 'Yes', callback_data: 'Yes' }, { text: 'No', callback_data: 'No' }],
    [{ text: 'Later', callback_data: 'Later' }]
  ])
})

test('a marker inside a sentence leaves the sentence', () => {
  const r = extractMarkers('Pick one [button:A] or the other [button:B]')
  assert.equal(r.text, 'Pick one or the other')
  assert.deepEqual(r.buttons.map((row) => row.map((b) => b.text)), [['A', 'B']])
})

test('markers inside code fences and code spans are text', () => {
  const md = 'Use `[button:Label]` like this:\n```\n[button:X]\n<file:/etc/hosts>\n```\n[button:Real]'
  const r = extractMarkers(md)
  assert.equal(r.text, 'Use `[button:Label]` like this:\n```\n[button:X]\n<file:/etc/hosts>\n```')
  assert.deepEqual(r.buttons, [[{ text: 'Real', callback_data: 'Real' }]])
  assert.deepEqual(r.files, [])
})

test('file tags are removed and listed once each', () => {
  const r = extractMarkers('Here is the chart:\n<file:/home/u/out/chart.png>\nand <file:/tmp/a b.txt> <file:/home/u/out/chart.png>')
  assert.equal(r.text, 'Here is the chart:\nand')
  assert.deepEqual(r.files, ['/home/u/out/chart.png', '/tmp/a b.txt'])
  assert.deepEqual(extractMarkers('<file:relative/path>').files, [], 'only absolute paths')
})

test('callback data is the label cut to 64 bytes of UTF-8 on a character boundary', () => {
  assert.equal(callbackDataFor('short'), 'short')
  const label = 'é'.repeat(40) // 80 bytes
  assert.equal(Buffer.byteLength(callbackDataFor(label)), 64)
  const emoji = '😀'.repeat(17) // 68 bytes, 4 per emoji
  assert.equal(callbackDataFor(emoji), '😀'.repeat(16))
  assert.equal(cutUtf8('ab😀', 5), 'ab')
})

test('live text hides markers, including one still being written', () => {
  assert.equal(stripMarkersLive('Choose:\n[button:Yes] [button:N'), 'Choose:')
  assert.equal(stripMarkersLive('Sending <file:/tmp/x.pn'), 'Sending')
})

test('consecutive identical tool uses collapse', () => {
  assert.deepEqual(collapseToolIndicators(['Bash', 'Bash', 'Bash', 'Read', 'Bash']), ['[TOOL: Bash] x3', '[TOOL: Read]', '[TOOL: Bash]'])
  assert.deepEqual(collapseToolIndicators([]), [])
})

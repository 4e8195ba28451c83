import { test } from 'node:test'
import assert from 'node:assert/strict'
import { splitHtml, splitPlainText, TELEGRAM_TEXT_LIMIT } from '../../../src/telegram/format/split.ts'
import { renderMarkdown } from '../../../src/telegram/format/markdown.ts'
import { assertPartsHoldText, telegramText } from './helpers.ts'

test('a message that fits is one part, unchanged', () => {
  assert.deepEqual(splitHtml('<b>hi</b> there'), ['<b>hi</b> there'])
  assert.deepEqual(splitHtml(''), [])
})

test('cuts at a paragraph break before a line break before a space', () => {
  const para = 'word '.repeat(10).trim()
  assert.deepEqual(splitHtml(`${para}\n${para}\n\n${para}`, 110), [`${para}\n${para}`, para])
  assert.deepEqual(splitHtml(`${para}\n${para}`, 70), [para, para])
  assert.deepEqual(splitHtml('aaaa bbbb cccc', 10), ['aaaa bbbb', 'cccc'])
  assert.deepEqual(splitHtml('abcdefghijklmnop', 10), ['abcdefghij', 'klmnop'])
})

test('never cuts inside an entity or a surrogate pair, and counts entities as one character', () => {
  assert.deepEqual(splitHtml('&lt;&amp;&gt;&quot;', 2), ['&lt;&amp;', '&gt;&quot;'])
  assert.deepEqual(splitHtml('😀😀😀', 4), ['😀😀', '😀'])
  assert.deepEqual(splitHtml('&amp;'.repeat(4096)).length, 1)
})

test('tags open at a cut are closed and reopened: a long code block stays a code block', () => {
  const code = Array.from({ length: 400 }, (_, i) => `line ${i}: if (a < b && c) { go() }`).join('\n')
  const html = renderMarkdown('Intro\n\n```ts\n' + code + '\n```\n\nOutro')
  const parts = splitHtml(html)
  assert.ok(parts.length >= 4)
  for (const part of parts.slice(1, -1)) assert.match(part, /^<pre><code class="language-ts">[^]*<\/code><\/pre>$/)
  assertPartsHoldText(html, parts, TELEGRAM_TEXT_LIMIT)
})

test('a 10,000-character reply becomes valid messages with nothing lost', () => {
  const md = Array.from({ length: 60 }, (_, i) =>
    `## Section ${i}\n\nSome **bold** text with _emphasis_, a [link](https://ex.com/${i}) & <symbols> — ` +
    'and filler words to make it long. '.repeat(3)).join('\n\n')
  assert.ok(md.length > 10_000)
  const html = renderMarkdown(md)
  const parts = splitHtml(html)
  assert.ok(parts.length >= 3)
  assertPartsHoldText(html, parts, TELEGRAM_TEXT_LIMIT)
  for (const part of parts) assert.ok(telegramText(part).length <= TELEGRAM_TEXT_LIMIT)
})

test('links and formatting that span a cut continue in the next part', () => {
  assert.deepEqual(splitHtml('<b><a href="https://x">link text that is long</a></b>', 10), [
    '<b><a href="https://x">link text</a></b>',
    '<b><a href="https://x">that is</a></b>',
    '<b><a href="https://x">long</a></b>'
  ])
})

test('plain text is split the same way', () => {
  assert.deepEqual(splitPlainText('a < b\n\nc & d', 6), ['a < b', 'c & d'])
})

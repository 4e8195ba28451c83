import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTelegramHtml } from './telegram-html.ts'

function error (html: string, strict = true): string {
  const r = parseTelegramHtml(html, { strict })
  assert.equal(r.ok, false, `expected ${JSON.stringify(html)} to be rejected`)
  return r.ok ? '' : r.error
}

function parsed (html: string, strict = true): { text: string, entities: unknown[] } {
  const r = parseTelegramHtml(html, { strict })
  if (!r.ok) assert.fail(r.error)
  return r
}

test('Telegram\'s error texts, with UTF-8 byte offsets', () => {
  assert.equal(error('héllo <foo>x</foo>'), 'Unsupported start tag "foo" at byte offset 7')
  assert.equal(error('<b>x'), 'Can\'t find end tag corresponding to start tag "b"')
  assert.equal(error('x</b>'), 'Unexpected end tag at byte offset 1')
  assert.equal(error('<b>x</i>'), 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"')
  assert.equal(error('ab <b'), 'Unclosed start tag at byte offset 3')
  assert.equal(error('<b>x</b'), 'Unclosed end tag at byte offset 4')
  assert.equal(error('<span>x</span>'), 'Tag "span" must have class "tg-spoiler" at byte offset 0')
  assert.equal(error('<a href=https://x>t</a>'), 'Unexpected end of name token at byte offset 8')
  assert.equal(error('<br>'), 'Unsupported start tag "br" at byte offset 0')
  assert.equal(error('a < b'), 'Unsupported start tag "" at byte offset 2')
})

test('every supported tag becomes its entity, offsets in UTF-16 units', () => {
  const r = parsed('😀<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>' +
    '<del>d</del><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">q</span><a href="https://x.y/?a=1&amp;b">l</a>' +
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code><pre>p</pre>' +
    '<pre><code class="language-py">py</code></pre><blockquote>q</blockquote><blockquote expandable>x</blockquote>')
  assert.equal(r.text, '😀bsieunskdpql👍cppyqx')
  assert.deepEqual(r.entities, [
    { type: 'bold', offset: 2, length: 1 },
    { type: 'bold', offset: 3, length: 1 },
    { type: 'italic', offset: 4, length: 1 },
    { type: 'italic', offset: 5, length: 1 },
    { type: 'underline', offset: 6, length: 1 },
    { type: 'underline', offset: 7, length: 1 },
    { type: 'strikethrough', offset: 8, length: 1 },
    { type: 'strikethrough', offset: 9, length: 1 },
    { type: 'strikethrough', offset: 10, length: 1 },
    { type: 'spoiler', offset: 11, length: 1 },
    { type: 'spoiler', offset: 12, length: 1 },
    { type: 'text_link', offset: 13, length: 1, url: 'https://x.y/?a=1&b' },
    { type: 'custom_emoji', offset: 14, length: 2, custom_emoji_id: '5368324170671202286' },
    { type: 'code', offset: 16, length: 1 },
    { type: 'pre', offset: 17, length: 1 },
    { type: 'pre', offset: 18, length: 2, language: 'py' },
    { type: 'blockquote', offset: 20, length: 1 },
    { type: 'expandable_blockquote', offset: 21, length: 1 }
  ])
})

test('only &lt; &gt; &amp; &quot; and numeric entities are decoded', () => {
  assert.equal(parsed('&lt;&gt;&amp;&quot;&#65;&#x1F600;').text, '<>&"A😀')
  assert.equal(error('AT&T'), 'Unescaped "&" at byte offset 2 (strict)')
  assert.equal(error('&copy;'), 'Unescaped "&" at byte offset 0 (strict)')
  // Telegram itself keeps an undecodable & as text and does not need the semicolon.
  assert.equal(parsed('AT&T &copy; &lt', false).text, 'AT&T &copy; <')
})

test('strict mode refuses unknown attributes and formatting Telegram would drop', () => {
  assert.match(error('<b onclick="x">y</b>'), /Unsupported attribute "onclick"/)
  assert.equal(parsed('<b onclick="x">y</b>', false).text, 'y')
  assert.match(error('<pre><b>x</b></pre>'), /can't be nested in "pre"/)
  assert.match(error('<code><i>x</i></code>'), /can't be nested in "code"/)
  assert.match(error('<blockquote>a<blockquote>b</blockquote></blockquote>'), /can't be nested in "blockquote"/)
  assert.match(error('<a href="https://a"><a href="https://b">x</a></a>'), /can't be nested in "a"/)
  assert.equal(parsed('<b><i>ok</i> <code>c</code></b>').text, 'ok c')
})

test('tag names are case-insensitive, </> closes the last tag, attribute quotes may be single', () => {
  assert.equal(parsed('<B>x</b>').text, 'x')
  assert.deepEqual(parsed('<i>x</>').entities, [{ type: 'italic', offset: 0, length: 1 }])
  assert.deepEqual(parsed('<a href=\'tg://user?id=1\'>u</a>').entities, [{ type: 'text_link', offset: 0, length: 1, url: 'tg://user?id=1' }])
})

test('whitespace around the message is trimmed and entities move with it', () => {
  const r = parsed('  \n<b> hi </b>\n ')
  assert.equal(r.text, 'hi')
  assert.deepEqual(r.entities, [{ type: 'bold', offset: 0, length: 2 }])
  assert.deepEqual(parsed('<b></b>x').entities, [])
})

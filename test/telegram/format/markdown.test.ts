import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createMarkdownRenderer, renderMarkdown } from '../../../src/telegram/format/markdown.ts'
import { telegramText } from './helpers.ts'

function render (md: string, streaming = false): string {
  const html = renderMarkdown(md, { streaming })
  telegramText(html)
  return html
}

test('inline formatting becomes Telegram tags', () => {
  assert.equal(render('**bold** *it* _it2_ ~~gone~~ `x < y`'),
    '<b>bold</b> <i>it</i> <i>it2</i> <s>gone</s> <code>x &lt; y</code>')
  assert.equal(render('**bold *and italic***'), '<b>bold <i>and italic</i></b>')
})

test('fenced code keeps its language and is escaped', () => {
  assert.equal(render('```python\nif a < b and c & d:\n    pass\n```'),
    '<pre><code class="language-python">if a &lt; b and c &amp; d:\n    pass</code></pre>')
  assert.equal(render('```\nplain\n```'), '<pre>plain</pre>')
  assert.equal(render('```"><b>\nx\n```'), '<pre>x</pre>', 'a hostile language is dropped')
})

test('links: only http, https, tg and mailto become links, hrefs escaped', () => {
  assert.equal(render('[site](https://ex.com/?a=1&b="2")'), '<a href="https://ex.com/?a=1&amp;b=&quot;2&quot;">site</a>')
  assert.equal(render('[x](javascript:alert(1))'), 'x')
  assert.equal(render('[x](file:///etc/passwd)'), 'x')
  assert.equal(render('mail <me@ex.com>'), 'mail <a href="mailto:me@ex.com">me@ex.com</a>')
  assert.equal(render('![logo](https://ex.com/l.png)'), '<a href="https://ex.com/l.png">logo</a>')
})

test('raw HTML from the model is shown as text, never passed through', () => {
  assert.equal(render('a <b>bold</b> <script>x</script> & done'),
    'a &lt;b&gt;bold&lt;/b&gt; &lt;script&gt;x&lt;/script&gt; &amp; done')
  assert.equal(render('<div>\nblock\n</div>'), '&lt;div&gt;\nblock\n&lt;/div&gt;')
  assert.equal(render('&amp; &copy; \\<'), '&amp;amp; &amp;copy; &lt;')
})

test('headings bold, lists as text, quotes, rules', () => {
  assert.equal(render('# Title\n\n## Sub'), '<b>Title</b>\n\n<b>Sub</b>')
  assert.equal(render('- a\n- b\n  - c\n\n3. x\n4. y'), '• a\n• b\n  ◦ c\n\n3. x\n4. y')
  assert.equal(render('- [ ] todo\n- [x] done'), '• ☐ todo\n• ☑ done')
  assert.equal(render('> quoted **b**\n> > inner'), '<blockquote>quoted <b>b</b>\ninner</blockquote>')
  assert.equal(render('a\n\n---\n\nb'), 'a\n\n──────────\n\nb')
})

test('tables become aligned text in a pre block', () => {
  assert.equal(render('| name | n |\n|:--|--:|\n| apple | 3 |\n| <fig> | 12 |'),
    '<pre>name  |  n\n------+---\napple |  3\n&lt;fig&gt; | 12</pre>')
})

test('mid-stream: an unclosed fence, emphasis or code span renders closed', () => {
  assert.equal(render('text\n\n```js\nconst a = 1 <', true), 'text\n\n<pre><code class="language-js">const a = 1 &lt;</code></pre>')
  assert.equal(render('so **bold and *it', true), 'so <b>bold and <i>it</i></b>')
  assert.equal(render('see `cod', true), 'see <code>cod</code>')
  assert.equal(render('dangling **', true), 'dangling')
  assert.equal(render('snake_case_name', true), 'snake_case_name')
})

test('the final render is not healed: unclosed markers stay as written', () => {
  assert.equal(render('so **bold'), 'so **bold')
})

test('incremental rendering gives the same HTML as rendering at once', () => {
  const md = '# T\n\npara one **b**\n\n1. a\n\n2. b\n\n```\ncode\n\nmore\n```\n\n> q\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[r]\n\n[r]: https://ex.com\n'
  const renderer = createMarkdownRenderer()
  for (let i = 1; i <= md.length; i++) telegramText(renderer.render(md.slice(0, i), { streaming: true }) || 'x')
  assert.equal(renderer.render(md), renderMarkdown(md))
  assert.match(renderMarkdown(md), /<a href="https:\/\/ex.com">r<\/a>/)
})

test('a growing reply re-renders only its open tail', () => {
  const renderer = createMarkdownRenderer()
  const para = 'Some words in a paragraph. '.repeat(20)
  let md = ''
  for (let i = 0; i < 200; i++) {
    md += `${para}\n\n`
    renderer.render(md, { streaming: true })
  }
  const { frozen, open } = renderer.renderBlocks(md)
  assert.equal(frozen.length, 198)
  assert.equal(open.length, 2)
})

test('a link definition inside a list item still turns later [ref]s into links when the reply streams in', () => {
  const md = '- [ref]: https://ref.ex\n\nsee [ref] ok\n\nmore [ref]\n'
  const renderer = createMarkdownRenderer()
  let streamed = ''
  for (let i = 1; i <= md.length; i++) streamed = renderer.render(md.slice(0, i))
  assert.equal(streamed, renderMarkdown(md))
  assert.match(streamed, /more <a href="https:\/\/ref\.ex">ref<\/a>/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMarkdownRenderer, renderMarkdown } from '../../../src/telegram/format/markdown.ts'
import { splitHtml } from '../../../src/telegram/format/split.ts'
import { parseTelegramHtml } from '../../fakes/bot-api/telegram-html.ts'
import { assertPartsHoldText } from './helpers.ts'

// Pieces a model's Markdown is made of, with the awkward ones over-represented.
const piece = fc.oneof(
  fc.constantFrom('**', '*', '_', '__', '~~', '~', '`', '``', '```', '```py\n', '~~~\n', '\n', '\n\n', '\n\n\n',
    '> ', '>> ', '- ', '* ', '1. ', '2) ', '# ', '### ', '---\n', '    ', '| a | b |\n|---|:-:|\n| 1 | 2 |\n', '| x ',
    '<', '>', '&', '&amp;', '&lt;', '&#65;', '"', '\'', '<b>', '</i>', '<br>', '<div>\n', '<!-- ', '\\', '\\*',
    '[', ']', '(', ')', '[link](https://x.y/?a=1&b="2")', '[bad](javascript:x)', '<https://auto.link>', 'www.ex.com',
    '![img](https://i.png)', '[ref]', '[ref]: https://ref.ex\n', '- [ ] ', '- [x] ',
    '😀', '👍🏽', '👨‍👩‍👧', '𝔘', 'é', '中文', '\t', ' ', '  \n', 'word', 'snake_case', 'a*b*c'),
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.integer({ min: 30, max: 400 }).map((n) => 'x'.repeat(n))
)
const markdown = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''))

function accepted (html: string): void {
  if (html.trim() === '') return
  const parsed = parseTelegramHtml(html)
  if (!parsed.ok) assert.fail(`rejected: ${parsed.error}\n${JSON.stringify(html)}`)
}

test('every prefix of random Markdown renders to HTML Telegram accepts', () => {
  fc.assert(fc.property(markdown, (md) => {
    const renderer = createMarkdownRenderer()
    for (let i = 0; i <= md.length; i++) accepted(renderer.render(md.slice(0, i), { streaming: true }))
    const final = renderer.render(md)
    accepted(final)
    assert.equal(final, renderMarkdown(md), 'incremental and one-shot rendering differ')
  }), { numRuns: Number(process.env.FC_RUNS ?? 100) })
})

test('split parts of random Markdown are each accepted and together hold the whole text', () => {
  fc.assert(fc.property(markdown, fc.integer({ min: 8, max: 300 }), (md, limit) => {
    const html = renderMarkdown(md)
    const parts = splitHtml(html, limit)
    assertPartsHoldText(html, parts, limit)
  }), { numRuns: Number(process.env.FC_RUNS ?? 200) })
})

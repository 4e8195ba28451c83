import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMarkdownRenderer, renderMarkdown } from '../../../src/telegram/format/markdown.ts'
import { splitHtml } from '../../../src/telegram/format/split.ts'
import { parseTelegramHtml } from '../../fakes/bot-api/telegram-html.ts'
import { assertPartsHoldText, markdown } from './helpers.ts'

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

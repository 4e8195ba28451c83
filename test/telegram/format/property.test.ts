import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMarkdownRenderer, renderMarkdown } from '../../../src/telegram/format/markdown.ts'
import { createHtmlSplitter, splitHtml } from '../../../src/telegram/format/split.ts'
import { createLiveMarkerStripper, stripMarkersLive } from '../../../src/telegram/format/markers.ts'
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

test('the incremental splitter gives exactly splitHtml\'s parts at every step of a growing reply', () => {
  fc.assert(fc.property(markdown, fc.integer({ min: 8, max: 200 }), fc.integer({ min: 1, max: 40 }), (md, limit, step) => {
    const renderer = createMarkdownRenderer()
    const splitter = createHtmlSplitter(limit)
    for (let i = 0; i <= md.length; i += step) {
      const html = renderer.render(md.slice(0, i), { streaming: true })
      assert.deepEqual(splitter.split(html), splitHtml(html, limit), `after ${i} characters`)
    }
    const html = renderer.render(md)
    assert.deepEqual(splitter.split(html), splitHtml(html, limit), 'the final reply')
  }), { numRuns: Number(process.env.FC_RUNS ?? 150) })
})

const withMarkers = fc.array(fc.oneof(
  markdown,
  fc.constantFrom('[button:Yes]', ' [button:No]', '<file:/tmp/a.txt>', '[button:', '<file:/x', '```\n', '~~~\n', '`[button:In code]`', '\r\n', '\r', '\n', '\n\n', '   ')
), { maxLength: 30 }).map((parts) => parts.join(''))

test('the incremental marker stripper gives exactly stripMarkersLive at every step of a growing reply', () => {
  fc.assert(fc.property(withMarkers, fc.integer({ min: 1, max: 25 }), (reply, step) => {
    const stripper = createLiveMarkerStripper()
    for (let i = 0; i <= reply.length; i += step) {
      assert.equal(stripper.strip(reply.slice(0, i)), stripMarkersLive(reply.slice(0, i)), `after ${i} characters`)
    }
    assert.equal(stripper.strip(reply), stripMarkersLive(reply), 'the whole reply')
    assert.equal(stripper.strip('another reply'), stripMarkersLive('another reply'), 'a reply that does not continue the last one')
  }), { numRuns: Number(process.env.FC_RUNS ?? 200) })
})

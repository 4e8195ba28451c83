import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseTelegramHtml } from '../../fakes/bot-api/telegram-html.ts'
import { htmlToText } from '../../../src/telegram/format/html.ts'

/** Parses like Telegram (strictly); fails the test with Telegram's error text otherwise. */
export function telegramText (html: string): string {
  const parsed = parseTelegramHtml(html)
  if (!parsed.ok) assert.fail(`Telegram would reject ${JSON.stringify(html)}: ${parsed.error}`)
  return parsed.text
}

/**
 * Asserts that the parts hold exactly the text of `fullHtml`, in order: each part's visible text is
 * the next piece of the full text, and only whitespace lies between pieces (dropped at the cuts).
 */
export function assertPartsHoldText (fullHtml: string, parts: string[], limit: number): void {
  const full = htmlToText(fullHtml)
  let pos = 0
  for (const part of parts) {
    const text = telegramText(part)
    assert.ok(text.length <= limit, `part of ${text.length} > ${limit}`)
    assert.ok(text.length > 0, 'empty part')
    while (pos < full.length && /[ \t\r\n]/.test(full[pos] as string)) pos++
    assert.equal(full.slice(pos, pos + text.length), text, `part does not continue the text at ${pos}`)
    pos += text.length
  }
  assert.equal(full.slice(pos).trim(), '', 'text left over after the last part')
}

// Pieces a model's Markdown is made of, with the awkward ones over-represented.
const piece = fc.oneof(
  fc.constantFrom('**', '*', '_', '__', '~~', '~', '`', '``', '```', '```py\n', '~~~\n', '\n', '\n\n', '\n\n\n',
    '> ', '>> ', '- ', '* ', '1. ', '2) ', '# ', '### ', '---\n', '    ', '| a | b |\n|---|:-:|\n| 1 | 2 |\n', '| x ',
    '<', '>', '&', '&amp;', '&lt;', '&#65;', '"', '\'', '<b>', '</i>', '<br>', '<div>\n', '<!-- ', '\\', '\\*',
    '[', ']', '(', ')', '[link](https://x.y/?a=1&b="2")', '[bad](javascript:x)', '<https://auto.link>', 'www.ex.com',
    '![img](https://i.png)', '[ref]', '[ref]: https://ref.ex\n', '- [ ] ', '- [x] ',
    '. ', '! ', 'End. Next', 'ok?\n', '😀', '👍🏽', '👨‍👩‍👧', '𝔘', 'é', '中文', '\t', ' ', '  \n', 'word', 'snake_case', 'a*b*c'),
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.integer({ min: 30, max: 400 }).map((n) => 'x'.repeat(n))
)
/** Random Markdown such as a model writes, awkward cases over-represented. */
export const markdown = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''))

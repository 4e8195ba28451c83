import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BOUNDARY, SECRET_MASK, createSecretMask } from '../src/secret-mask.ts'

test('a secret is masked however the stream cuts the text, and the text is otherwise unchanged', () => {
  const mask = createSecretMask()
  for (const s of ['123456:AAH-bot-token-xyz', 'admin-token-0123456789', 'admin-token-0123456789-longer', 'short', 'abcdefgh12', 'h12345678x']) mask.add(s)
  const text = 'a 123456:AAH-bot-token-xyz b admin-token-0123456789-longer c admin-token-0123 d admin-token-0123456789 e abcdefgh12345678x'
  const whole = mask.mask(text)
  assert.equal(whole, 'a [REDACTED] b [REDACTED] c admin-token-0123 d [REDACTED] e [REDACTED]345678x')
  for (let seed = 1; seed <= 200; seed++) {
    const stream = mask.streamMasker()
    let out = ''
    let rest = text
    let r = seed
    while (rest !== '') {
      r = (r * 1103515245 + 12345) % 2147483648
      const n = 1 + (r % 9)
      out += stream.push(rest.slice(0, n))
      rest = rest.slice(n)
    }
    out += stream.flush()
    assert.equal(out, whole, `seed ${seed}`)
  }
})

test('a secret added later is masked from then on', () => {
  const mask = createSecretMask()
  assert.equal(mask.mask('token rotated-token-abcdef'), 'token rotated-token-abcdef')
  mask.add('rotated-token-abcdef')
  assert.equal(mask.mask('token rotated-token-abcdef'), 'token [REDACTED]')
})

test('a secret a reader can put together is masked: split by whitespace or Markdown, and nothing else is', () => {
  const mask = createSecretMask()
  mask.add('123456:AAH-bot_token')
  mask.add('admin-token-0123456789')
  assert.equal(mask.mask('a admin-token-01234\n56789 b'), 'a [REDACTED] b')
  assert.equal(mask.mask('a 123456:**AAH**\\-bot\\_token b'), 'a [REDACTED] b')
  assert.equal(mask.mask('a `admin-token` `-0123456789` b'), 'a `[REDACTED]` b')
  assert.equal(mask.mask('a admin-token-0123 d 456789 b'), 'a admin-token-0123 d 456789 b')
  assert.equal(mask.mask('admin-token-012345678'), 'admin-token-012345678')
})

test('a secret split by a tool call is masked, and the events keep their order', () => {
  const mask = createSecretMask()
  mask.add('admin-token-0123456789')
  const stream = mask.streamMasker()
  // "plain" cannot start a secret: the tool call goes straight through.
  assert.equal(stream.push('plain '), 'plain ')
  assert.equal(stream.boundary(), false)
  // A tail that could start one is held, and so is the tool call after it (one BOUNDARY).
  assert.equal(stream.push('see admin-tok'), 'see ')
  assert.equal(stream.boundary(), true)
  assert.equal(stream.push('\n\nen-0123456789 there'), `${BOUNDARY}${SECRET_MASK} there`)
  // Not a secret after all: the held text, then the tool call, in the order they came.
  assert.equal(stream.push(' ad'), ' ')
  assert.equal(stream.boundary(), true)
  assert.equal(stream.push('vice'), `ad${BOUNDARY}vice`)
  assert.equal(stream.flush(), '')
  // The final reply repeats the last block: the end of the split secret in it is masked too.
  assert.equal(mask.maskAfter(`see admin-tok${BOUNDARY}\n\n`, 'en-0123456789 there'), `${SECRET_MASK} there`)
  assert.equal(mask.maskAfter(`see you${BOUNDARY}\n\n`, 'en-0123456789 there'), 'en-0123456789 there')
})

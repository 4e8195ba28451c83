import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSecretMask } from '../src/secret-mask.ts'

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

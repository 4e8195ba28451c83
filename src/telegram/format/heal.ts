/**
 * Display-only repair of the block that is still being written: closes emphasis, strike and code
 * spans the model has opened but not yet closed (`**bold so fa` → `**bold so fa**`), and drops an
 * opener that has nothing after it yet. The result is lexed and rendered like any Markdown, so it
 * can only change how the live message looks, never make it invalid. Final replies are not healed.
 */

interface Opener { ch: string, len: number, pos: number }

const isSpace = (c: string | undefined): boolean => c === undefined || /\s/.test(c)
const isPunct = (c: string | undefined): boolean => c !== undefined && /[\p{P}\p{S}]/u.test(c)

function runLength (s: string, at: number, ch: string): number {
  let n = 0
  while (s[at + n] === ch) n++
  return n
}

export function healOpenInline (raw: string): string {
  const stack: Opener[] = []
  let i = 0
  let openCode: Opener | null = null
  while (i < raw.length) {
    const c = raw[i] as string
    if (c === '\\') { i += 2; continue }
    if (c === '`') {
      const n = runLength(raw, i, '`')
      const close = findRun(raw, i + n, '`', n)
      if (close === -1) { openCode = { ch: '`', len: n, pos: i }; break }
      i = close + n
      continue
    }
    if (c === '*' || c === '_' || c === '~') {
      const n = runLength(raw, i, c)
      const before = raw[i - 1]
      const after = raw[i + n]
      // At the very end of the stream the next character has not arrived yet: it may open.
      const left = after === undefined || !isSpace(after)
      const right = !isSpace(before)
      const canOpen = c === '_' ? left && (!right || isPunct(before)) : left
      const canClose = c === '_' ? right && (!left || isPunct(after)) : right
      const usable = c !== '~' || n <= 2
      const match = findOpener(stack, c)
      if (usable && canClose && match !== -1) stack.length = match
      else if (usable && canOpen) stack.push({ ch: c, len: n, pos: i })
      i += n
      continue
    }
    i++
  }
  if (openCode !== null) stack.push(openCode)
  let body = raw.replace(/\s+$/, '')
  const trailing = raw.slice(body.length)
  // An opener with nothing after it yet is hidden rather than closed around nothing.
  while (stack.length > 0) {
    const last = stack[stack.length - 1] as Opener
    if (body.slice(last.pos + last.len).trim() !== '') break
    body = body.slice(0, last.pos).replace(/\s+$/, '')
    stack.pop()
  }
  if (stack.length === 0) return body + trailing
  const closers = stack.reverse().map((o) => o.ch.repeat(o.len)).join('')
  return body + closers + trailing
}

function findRun (s: string, from: number, ch: string, len: number): number {
  let i = s.indexOf(ch, from)
  while (i !== -1) {
    const n = runLength(s, i, ch)
    if (n === len) return i
    i = s.indexOf(ch, i + n)
  }
  return -1
}

function findOpener (stack: Opener[], ch: string): number {
  for (let k = stack.length - 1; k >= 0; k--) if (stack[k]?.ch === ch) return k
  return -1
}

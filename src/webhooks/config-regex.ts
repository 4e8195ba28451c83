/**
 * Regular expressions from `webhooks.json` (`hmac_sig_regex`, `hmac_payload_prefix_regex`) were
 * written for Python's `re.search`. The common Python-only spellings are translated — named groups
 * `(?P<n>…)`/`(?P=n)`, anchors `\A`/`\Z`, leading inline flags `(?i)` `(?m)` `(?s)` — and anything
 * JavaScript cannot compile gives `null`, never an exception.
 */
export function compileConfigRegex (source: string): RegExp | null {
  let body = source
  let flags = ''
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(body)
  if (inline !== null) {
    const letters = inline[1] ?? ''
    if (!/^[ims]+$/.test(letters)) return null
    flags = [...new Set(letters)].join('')
    body = body.slice(inline[0].length)
  }
  body = body
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, '$1$2^')
    .replace(/(^|[^\\])((?:\\\\)*)\\Z/g, '$1$2$$')
  try {
    return new RegExp(body, flags)
  } catch {
    return null
  }
}

/**
 * Longest header value a configured regex is run on. Request headers are attacker-controlled; the
 * cap bounds the work a badly written (backtracking) expression can be made to do.
 */
const MAX_REGEX_INPUT = 4096

/** Group 1 of the first match, like Python's `re.search(...).group(1)`; `null` when absent or empty. */
export function firstGroup (regex: RegExp, input: string): string | null {
  if (input.length > MAX_REGEX_INPUT) return null
  const match = regex.exec(input)
  const group = match?.[1]
  return group === undefined || group === '' ? null : group
}

/**
 * How deeply a JSON ingress may nest (issue 14: "Hostile bodies never 5xx"). A body nested thousands
 * of levels deep parses, but every later recursive step (JSON.stringify into the journal, a template,
 * a schema validator) can overflow the stack and answer 500, which Telegram and webhook senders
 * retry for days. Real payloads nest a few levels (Stripe and GitHub under 10); 64 leaves room.
 */
export const MAX_JSON_DEPTH = 64

export const depthMessage = (what: string): string =>
  `${what} is nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays inside each other); send a flatter JSON document`

/** Whether JSON text nests objects/arrays deeper than `limit`. One pass, no recursion, strings skipped. */
export function jsonTooDeep (text: string, limit = MAX_JSON_DEPTH): boolean {
  // The depth never exceeds the number of `{` and `[` in the text (in strings or not), which
  // `indexOf` counts several times faster than the character loop below reads a text: most bodies
  // hold far fewer than `limit` of them and are done here (ADR 0033).
  if (openersAtMost(text, limit)) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 123 || c === 91) {
      if (++depth > limit) return true
    } else if (c === 125 || c === 93) {
      depth--
    }
  }
  return false
}

/** Whether `text` holds at most `limit` characters `{` and `[` together. */
function openersAtMost (text: string, limit: number): boolean {
  let count = 0
  for (const opener of ['{', '[']) {
    for (let i = text.indexOf(opener); i !== -1; i = text.indexOf(opener, i + 1)) {
      if (++count > limit) return false
    }
  }
  return true
}

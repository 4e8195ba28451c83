import type { Hook } from './hook-schema.ts'

/** `{{ path }}`: anything but braces and whitespace inside, optional spaces around. */
const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g

/** Names that would reach into JavaScript's object machinery rather than the payload's data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype'])

const MISSING = Symbol('missing')

/**
 * Fills `{{field}}` placeholders from the payload. Paths may be dotted and index arrays
 * (`{{pull_request.title}}`, `{{commits.0.message}}`). Only the payload's own data is read.
 * A missing field renders as `{{?field}}`; strings as they are; numbers, booleans and null as
 * text; objects and arrays as compact JSON. Values are inserted once (a value containing
 * `{{x}}` is not expanded again).
 */
export function renderTemplate (template: string, payload: unknown): string {
  return template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = lookup(payload, path)
    return value === MISSING ? `{{?${path}}}` : stringify(value)
  })
}

function lookup (root: unknown, path: string): unknown {
  let current: unknown = root
  for (const segment of path.split('.')) {
    if (segment === '' || FORBIDDEN_SEGMENTS.has(segment)) return MISSING
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(segment)) return MISSING
      const index = Number(segment)
      if (index >= current.length) return MISSING
      current = current[index]
    } else if (typeof current === 'object' && current !== null) {
      if (!Object.hasOwn(current, segment)) return MISSING
      current = (current as Record<string, unknown>)[segment]
    } else {
      return MISSING
    }
  }
  return current === undefined ? MISSING : current
}

function stringify (value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value) ?? ''
}

export const UNTRUSTED_END_MARKER = '--- END UNTRUSTED EXTERNAL INPUT ---'

function untrustedBeginMarker (title: string): string {
  return `--- BEGIN UNTRUSTED EXTERNAL INPUT (webhook ${JSON.stringify(neutraliseMarkers(title))}) ---`
}

/**
 * Anything in the text that reads like one of our markers — whatever the case, with spaces,
 * dashes, underscores or invisible format characters between the words — is replaced, so the
 * external text can neither close the block early nor open a fake one.
 */
const MARKER_LIKE = /(BEGIN|END)[\s\p{Cf}_-]*UNTRUSTED[\s\p{Cf}_-]*EXTERNAL[\s\p{Cf}_-]*INPUT/giu

function neutraliseMarkers (text: string): string {
  return text.replace(MARKER_LIKE, '[marker removed]')
}

/** `text` between the BEGIN/END markers that tell the agent it is untrusted external input. */
export function wrapUntrusted (text: string, title: string): string {
  return `${untrustedBeginMarker(title)}\n${neutraliseMarkers(text)}\n${UNTRUSTED_END_MARKER}`
}

/** The prompt for one delivery: the hook's template filled from the payload, wrapped as untrusted. */
export function renderHookPrompt (hook: Pick<Hook, 'title' | 'prompt_template'>, payload: unknown): string {
  return wrapUntrusted(renderTemplate(hook.prompt_template, payload), hook.title)
}

/**
 * A payload that fills every placeholder of `template` with a visible sample (`<path>`), for
 * `POST /api/webhooks/:id/test` without a body: dotted paths become nested objects, numeric
 * segments arrays (up to index 999). Where two placeholders conflict (`a` and `a.b`), the first wins.
 */
export function samplePayload (template: string): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [, path = ''] of template.matchAll(PLACEHOLDER)) {
    const segments = path.split('.')
    if (segments.some((s) => s === '' || FORBIDDEN_SEGMENTS.has(s))) continue
    let node: unknown = root
    for (const [i, segment] of segments.entries()) {
      const next = segments[i + 1]
      const fresh = next === undefined ? `<${path}>` : isSampleIndex(next) ? [] : {}
      if (Array.isArray(node)) {
        if (!isSampleIndex(segment)) break
        const index = Number(segment)
        while (node.length <= index) node.push(null)
        if (node[index] === null) node[index] = fresh
        node = node[index]
      } else if (typeof node === 'object' && node !== null) {
        const record = node as Record<string, unknown>
        if (!Object.hasOwn(record, segment)) record[segment] = fresh
        node = record[segment]
      } else {
        break
      }
    }
  }
  return root
}

const isSampleIndex = (segment: string): boolean => /^(0|[1-9]\d{0,2})$/.test(segment)

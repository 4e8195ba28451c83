import { createRequire } from 'node:module'
import type { TSchema } from 'typebox'

/**
 * Defaults and checks for the schemas the service reads at every start (the config, its streaming
 * section, the webhooks), without loading `typebox/value` on the way (ADR 47): that module and its
 * ~300 files cost ~8 MB of idle RSS and ~170 ms of start-up CPU, and a valid config needs none of it.
 *
 * Our schemas are plain JSON Schema (TypeBox builds them as such), and this module reads only their
 * JSON Schema keywords:
 *
 * - `fillDefaults` does what TypeBox's `Value.Default` does for the shapes we use (objects, arrays,
 *   records, unions whose branches hold no defaults) and refuses any other shape, so it can never
 *   quietly fill less; test/schema-value.test.ts compares the two over generated values.
 * - `surelyValid` is a one-sided check: true only when the value meets every keyword and each keyword
 *   is one it knows, with the meaning TypeBox gives it (code-point string lengths, finite numbers,
 *   objects that are not arrays). Anything else (an invalid value, an unknown keyword) answers false,
 *   and the caller asks TypeBox itself through `typeboxValue()`, so every error message stays TypeBox's.
 */

type Schema = Record<string, unknown>

const require = createRequire(import.meta.url)

/** `typebox/value`, loaded on first use: only failure paths and rare ones need it. */
export function typeboxValue (): typeof import('typebox/value') {
  return require('typebox/value') as typeof import('typebox/value')
}

/** `typebox/compile`, loaded on first use. */
export function typeboxCompile (): typeof import('typebox/compile') {
  return require('typebox/compile') as typeof import('typebox/compile')
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function hasDefaults (schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(hasDefaults)
  if (!isObject(schema)) return false
  return Object.hasOwn(schema, 'default') || Object.values(schema).some(hasDefaults)
}

function cloneDefault (value: unknown): unknown {
  if (typeof value === 'function') return (value as () => unknown)()
  return typeof value === 'object' && value !== null ? structuredClone(value) : value
}

/**
 * Fills every missing property that has a default, in place, as `Value.Default(schema, value)` does,
 * and returns the result. Throws on a schema shape it does not handle (a programming error).
 */
export function fillDefaults (schema: TSchema, value: unknown): unknown {
  return fill(schema as Schema, value)
}

function fill (s: Schema, value: unknown): unknown {
  const v = Object.hasOwn(s, 'default') && value === undefined ? cloneDefault(s['default']) : value
  if (Array.isArray(s['anyOf'])) {
    // TypeBox tries each branch on a copy and keeps the first that checks; branches without defaults
    // give the value back unchanged, which is all our unions have.
    if (hasDefaults(s['anyOf'])) throw new Error('fillDefaults: a union whose branches hold defaults is not supported')
    return v
  }
  if (s['type'] === 'array' && isObject(s['items'])) {
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = fill(s['items'], v[i])
    return v
  }
  if (s['type'] === 'object' && isObject(s['patternProperties'])) {
    const entries = Object.entries(s['patternProperties'])
    if (entries.length !== 1 || isObject(s['additionalProperties']) || s['properties'] !== undefined) throw new Error('fillDefaults: this record shape is not supported')
    const [pattern, item] = entries[0] as [string, Schema]
    if (typeof v === 'object' && v !== null && Object.hasOwn(item, 'default')) {
      const o = v as Record<string, unknown>
      const re = new RegExp(pattern)
      for (const key of Object.keys(o)) if (re.test(key)) o[key] = fill(item, o[key])
    }
    return v
  }
  if (s['type'] === 'object' && isObject(s['properties'])) {
    if (isObject(s['additionalProperties'])) throw new Error('fillDefaults: additionalProperties as a schema is not supported')
    // TypeBox fills any object here, arrays included (its IsObject), so this does too.
    if (typeof v !== 'object' || v === null) return v
    const o = v as Record<string, unknown>
    for (const [key, prop] of Object.entries(s['properties'] as Record<string, Schema>)) {
      const filled = fill(prop, o[key])
      if (filled === undefined && !Object.hasOwn(prop, 'default')) continue
      o[key] = filled
    }
    return v
  }
  if (s['type'] === 'object' || s['allOf'] !== undefined || s['$ref'] !== undefined || Array.isArray(s['items'])) {
    throw new Error('fillDefaults: this schema shape is not supported')
  }
  return v
}

/** Keywords that only annotate (TypeBox checks none of them). */
const ANNOTATIONS = new Set(['description', 'default', 'title', 'examples', '$comment', 'secret'])

/**
 * True when `value` surely matches `schema` as TypeBox's `Value.Check` decides; false when it does not,
 * or when the schema uses a keyword this check does not know (then ask TypeBox).
 */
export function surelyValid (schema: TSchema, value: unknown): boolean {
  return valid(schema as Schema, value)
}

/** TypeBox's own markers (non-enumerable) that do not change what a value must be. */
const MARKERS = new Set(['~kind', '~optional', '~readonly'])

function valid (s: Schema, v: unknown): boolean {
  // A refinement or a codec (`~refine`, `~codec`) is code this check cannot run: ask TypeBox.
  for (const key of Object.getOwnPropertyNames(s)) if (key.startsWith('~') && !MARKERS.has(key)) return false
  for (const key of Object.keys(s)) {
    if (ANNOTATIONS.has(key)) continue
    if (!keywordHolds(key, s, v)) return false
  }
  return true
}

function codePoints (text: string): number {
  let surrogatePairs = 0
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i)
    const d = text.charCodeAt(i + 1)
    if (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
      surrogatePairs++
      i++
    }
  }
  return text.length - surrogatePairs
}

const patterns = new Map<string, [RegExp, RegExp]>()

/**
 * `pattern` compiled as TypeBox does (a Unicode RegExp) and without the flag; `all` answers whether both
 * match (a value surely matches), `any` whether either does (a key may be one the pattern governs).
 */
function regexps (pattern: string): [RegExp, RegExp] {
  let res = patterns.get(pattern)
  if (res === undefined) {
    res = [new RegExp(pattern, 'u'), new RegExp(pattern)]
    patterns.set(pattern, res)
  }
  return res
}

function matches (pattern: string, text: string, how: 'all' | 'any' = 'all'): boolean {
  const [unicode, plain] = regexps(pattern)
  return how === 'all' ? unicode.test(text) && plain.test(text) : unicode.test(text) || plain.test(text)
}

function isPlain (v: Record<string, unknown>): boolean {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function isPrimitive (v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function')
}

function typeHolds (type: unknown, v: unknown): boolean {
  switch (type) {
    case 'object': return isObject(v)
    case 'array': return Array.isArray(v)
    case 'string': return typeof v === 'string'
    case 'boolean': return typeof v === 'boolean'
    case 'null': return v === null
    case 'integer': return Number.isInteger(v)
    case 'number': return Number.isFinite(v)
    default: return false
  }
}

function keywordHolds (key: string, s: Schema, v: unknown): boolean {
  const k = s[key]
  switch (key) {
    case 'type': return Array.isArray(k) ? k.some((t) => typeHolds(t, v)) : typeHolds(k, v)
    case 'enum': return Array.isArray(k) && k.some((e) => isPrimitive(e) && e === v)
    case 'const': return isPrimitive(k) && k === v
    case 'anyOf': return Array.isArray(k) && k.some((branch) => isObject(branch) && valid(branch, v))
    case 'minimum': return typeof k === 'number' && Number.isFinite(v) && (v as number) >= k
    case 'maximum': return typeof k === 'number' && Number.isFinite(v) && (v as number) <= k
    case 'exclusiveMinimum': return typeof k === 'number' && Number.isFinite(v) && (v as number) > k
    case 'exclusiveMaximum': return typeof k === 'number' && Number.isFinite(v) && (v as number) < k
    case 'minLength': return typeof k === 'number' && typeof v === 'string' && codePoints(v) >= k
    // .length counts every code point once or twice: at most the maximum in .length is at most in code points.
    case 'maxLength': return typeof k === 'number' && typeof v === 'string' && v.length <= k
    case 'pattern': return typeof k === 'string' && typeof v === 'string' && matches(k, v)
    case 'minItems': return typeof k === 'number' && Array.isArray(v) && v.length >= k
    case 'maxItems': return typeof k === 'number' && Array.isArray(v) && v.length <= k
    case 'items': return isObject(k) && Array.isArray(v) && v.every((item) => valid(k, item))
    case 'required': return Array.isArray(k) && isObject(v) && k.every((name) => typeof name === 'string' && Object.hasOwn(v, name) && v[name] !== undefined)
    case 'properties': {
      if (!isObject(k) || !isObject(v) || !isPlain(v)) return false
      for (const [name, prop] of Object.entries(k)) {
        if (!Object.hasOwn(v, name)) continue
        if (!isObject(prop) || v[name] === undefined || !valid(prop, v[name])) return false
      }
      return true
    }
    case 'patternProperties': {
      if (!isObject(k) || !isObject(v) || !isPlain(v)) return false
      for (const [pattern, prop] of Object.entries(k)) {
        if (!isObject(prop)) return false
        for (const [name, item] of Object.entries(v)) if (matches(pattern, name, 'any') && !valid(prop, item)) return false
      }
      return true
    }
    case 'additionalProperties': {
      if (k === true) return true
      if (k !== false || !isObject(v)) return false
      const known = isObject(s['properties']) ? s['properties'] : {}
      const named = isObject(s['patternProperties']) ? Object.keys(s['patternProperties']) : []
      return Object.keys(v).every((name) => Object.hasOwn(known, name) || named.some((p) => matches(p, name)))
    }
    default: return false
  }
}

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
 * or when the schema uses a keyword this check does not know (then ask TypeBox). Each schema is turned
 * into a function once (10,000 cron jobs are checked in about the time TypeBox's compiled check takes).
 */
export function surelyValid (schema: TSchema, value: unknown): boolean {
  return checkerOf(schema as Schema)(value)
}

type Check = (v: unknown) => boolean

const never: Check = () => false

/** TypeBox's own markers (non-enumerable) that do not change what a value must be. */
const MARKERS = new Set(['~kind', '~optional', '~readonly'])

const checkers = new WeakMap<Schema, Check>()

function checkerOf (s: Schema): Check {
  let check = checkers.get(s)
  if (check === undefined) {
    check = buildChecker(s)
    checkers.set(s, check)
  }
  return check
}

function buildChecker (s: Schema): Check {
  // A refinement or a codec (`~refine`, `~codec`) is code this check cannot run: ask TypeBox.
  for (const key of Object.getOwnPropertyNames(s)) if (key.startsWith('~') && !MARKERS.has(key)) return never
  const parts: Check[] = []
  for (const key of Object.keys(s)) {
    if (ANNOTATIONS.has(key)) continue
    const part = keywordChecker(key, s)
    if (part === never) return never
    parts.push(part)
  }
  return (v) => {
    for (const part of parts) if (!part(v)) return false
    return true
  }
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

/**
 * `pattern` compiled as TypeBox does (a Unicode RegExp) and without the flag; `all` answers whether both
 * match (a value surely matches), `any` whether either does (a key may be one the pattern governs).
 */
function matcher (pattern: string, how: 'all' | 'any'): (text: string) => boolean {
  const unicode = new RegExp(pattern, 'u')
  const plain = new RegExp(pattern)
  return how === 'all' ? (text) => unicode.test(text) && plain.test(text) : (text) => unicode.test(text) || plain.test(text)
}

function isPlain (v: Record<string, unknown>): boolean {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function isPrimitive (v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function')
}

function typeCheck (type: unknown): Check {
  switch (type) {
    case 'object': return isObject
    case 'array': return Array.isArray
    case 'string': return (v) => typeof v === 'string'
    case 'boolean': return (v) => typeof v === 'boolean'
    case 'null': return (v) => v === null
    case 'integer': return Number.isInteger
    case 'number': return Number.isFinite
    default: return never
  }
}

function bound (k: unknown, holds: (v: number, k: number) => boolean): Check {
  if (typeof k !== 'number') return never
  return (v) => Number.isFinite(v) && holds(v as number, k)
}

function keywordChecker (key: string, s: Schema): Check {
  const k = s[key]
  switch (key) {
    case 'type': {
      if (!Array.isArray(k)) return typeCheck(k)
      const each = k.map(typeCheck)
      return (v) => each.some((c) => c(v))
    }
    case 'enum': return Array.isArray(k) && k.every(isPrimitive) ? (v) => k.includes(v) && isPrimitive(v) : never
    case 'const': return isPrimitive(k) ? (v) => v === k : never
    case 'anyOf': {
      if (!Array.isArray(k) || !k.every(isObject)) return never
      const branches = k.map((b) => checkerOf(b as Schema))
      return (v) => branches.some((c) => c(v))
    }
    case 'minimum': return bound(k, (v, m) => v >= m)
    case 'maximum': return bound(k, (v, m) => v <= m)
    case 'exclusiveMinimum': return bound(k, (v, m) => v > m)
    case 'exclusiveMaximum': return bound(k, (v, m) => v < m)
    case 'minLength': return typeof k === 'number' ? (v) => typeof v === 'string' && codePoints(v) >= k : never
    // .length counts every code point once or twice: at most the maximum in .length is at most in code points.
    case 'maxLength': return typeof k === 'number' ? (v) => typeof v === 'string' && v.length <= k : never
    case 'pattern': {
      if (typeof k !== 'string') return never
      const test = matcher(k, 'all')
      return (v) => typeof v === 'string' && test(v)
    }
    case 'minItems': return typeof k === 'number' ? (v) => Array.isArray(v) && v.length >= k : never
    case 'maxItems': return typeof k === 'number' ? (v) => Array.isArray(v) && v.length <= k : never
    case 'items': {
      if (!isObject(k)) return never
      const item = checkerOf(k)
      return (v) => Array.isArray(v) && v.every(item)
    }
    case 'required': {
      if (!Array.isArray(k) || !k.every((name) => typeof name === 'string')) return never
      const names = k as string[]
      return (v) => isObject(v) && names.every((name) => Object.hasOwn(v, name) && v[name] !== undefined)
    }
    case 'properties': {
      if (!isObject(k) || !Object.values(k).every(isObject)) return never
      const props = Object.entries(k).map(([name, prop]) => [name, checkerOf(prop as Schema)] as const)
      return (v) => {
        if (!isObject(v) || !isPlain(v)) return false
        for (const [name, check] of props) {
          if (!Object.hasOwn(v, name)) continue
          const item = v[name]
          if (item === undefined || !check(item)) return false
        }
        return true
      }
    }
    case 'patternProperties': {
      if (!isObject(k) || !Object.values(k).every(isObject)) return never
      const rules = Object.entries(k).map(([pattern, prop]) => [matcher(pattern, 'any'), checkerOf(prop as Schema)] as const)
      return (v) => {
        if (!isObject(v) || !isPlain(v)) return false
        for (const [governs, check] of rules) {
          for (const [name, item] of Object.entries(v)) if (governs(name) && !check(item)) return false
        }
        return true
      }
    }
    case 'additionalProperties': {
      if (k === true) return () => true
      if (k !== false) return never
      const known = isObject(s['properties']) ? new Set(Object.keys(s['properties'])) : new Set<string>()
      const patterns = isObject(s['patternProperties']) ? Object.keys(s['patternProperties']).map((p) => matcher(p, 'all')) : []
      return (v) => isObject(v) && Object.keys(v).every((name) => known.has(name) || patterns.some((test) => test(name)))
    }
    default: return never
  }
}

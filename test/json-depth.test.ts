import { test } from 'node:test'
import assert from 'node:assert/strict'
import { jsonTooDeep } from '../src/json-depth.ts'

/** The nesting depth of parsed JSON, the slow obvious way. */
function depth (value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  const children = Array.isArray(value) ? value : Object.values(value)
  return 1 + children.reduce((max: number, child) => Math.max(max, depth(child)), 0)
}

/** A random document: nested objects and arrays, strings full of brackets and escapes. */
function randomDoc (rand: () => number, level: number): unknown {
  const r = rand()
  if (level > 12 || r < 0.25) {
    const pieces = ['{', '[', '}', ']', '\\"', '\\\\', 'x', ' ']
    return Array.from({ length: Math.floor(rand() * 8) }, () => pieces[Math.floor(rand() * pieces.length)]).join('').replaceAll('\\"', '"').replaceAll('\\\\', '\\')
  }
  if (r < 0.35) return Math.floor(rand() * 100)
  const n = Math.floor(rand() * 4)
  if (r < 0.7) return Array.from({ length: n }, () => randomDoc(rand, level + 1))
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}{[`, randomDoc(rand, level + 1)]))
}

test('jsonTooDeep agrees with the parsed depth, for any limit, brackets in strings included', () => {
  let seed = 7
  const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  for (let i = 0; i < 2000; i++) {
    const doc = randomDoc(rand, 0)
    const text = JSON.stringify(doc)
    const d = depth(doc)
    for (const limit of [0, 1, 2, 3, Math.max(0, d - 1), d, d + 1]) {
      assert.equal(jsonTooDeep(text, limit), d > limit, `${text} at limit ${limit} (depth ${d})`)
    }
  }
})

test('many openers at a shallow depth are not too deep; one opener too many is', () => {
  const wide = JSON.stringify(Array.from({ length: 500 }, () => ({ a: [1] })))
  assert.equal(jsonTooDeep(wide, 64), false)
  assert.equal(jsonTooDeep('['.repeat(65) + ']'.repeat(65), 64), true)
  assert.equal(jsonTooDeep('['.repeat(64) + ']'.repeat(64), 64), false)
  assert.equal(jsonTooDeep(JSON.stringify({ s: '{'.repeat(200) }), 64), false, 'brackets inside a string do not count')
})

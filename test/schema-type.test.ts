// src/schema-type.ts builds the JSON Schema TypeBox's Type builds (ADR 47): key for key, in the same
// order, for every builder and every shape of call the service makes; and TypeBox's Check and Errors
// (the failure paths) read ours as they read its own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Type as TypeBox } from 'typebox'
import { Value } from 'typebox/value'
import { Type } from '../src/schema-type.ts'

type Builder = typeof Type

/** Each call made with both builders. */
const CASES: Array<[string, (T: Builder) => unknown]> = [
  ['String', (T) => T.String()],
  ['String with options', (T) => T.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]+$', default: 'x', description: 'd' })],
  ['Integer', (T) => T.Integer({ minimum: 0, maximum: 65535 })],
  ['Number', (T) => T.Number({ exclusiveMinimum: 0, default: 2.0 })],
  ['Boolean', (T) => T.Boolean({ default: true, description: 'd' })],
  ['Null', (T) => T.Null()],
  ['Unknown', (T) => T.Unknown()],
  ['Literal string', (T) => T.Literal('wake')],
  ['Literal number and boolean', (T) => [T.Literal(3), T.Literal(true), T.Literal('x', { description: 'd' })]],
  ['Enum', (T) => T.Enum(['a', 'b'], { default: 'a', description: 'd' })],
  ['Array', (T) => T.Array(T.String({ minLength: 1 }), { minItems: 1, default: [] })],
  ['Union', (T) => T.Union([T.Null(), T.Integer({ minimum: 0 })], { default: null, description: 'd' })],
  ['Union of literals', (T) => T.Union([T.Literal('a'), T.Literal('b'), T.Null()])],
  ['Object, all required', (T) => T.Object({ a: T.String(), b: T.Integer() })],
  ['Object, some optional', (T) => T.Object({ a: T.Optional(T.String()), b: T.Integer(), c: T.Optional(T.Union([T.String(), T.Null()])) }, { additionalProperties: false })],
  ['Object, all optional', (T) => T.Object({ a: T.Optional(T.String()) }, { additionalProperties: true, default: {} })],
  ['Object, empty', (T) => T.Object({})],
  ['Object, nested', (T) => T.Object({ inner: T.Object({ x: T.Boolean({ default: false }) }, { default: {} }), list: T.Array(T.Object({ id: T.String() })) })],
  ['Optional object', (T) => T.Object({ o: T.Optional(T.Object({ a: T.String() })) })],
  ['Record', (T) => T.Record(T.String(), T.Unknown())],
  ['Record with a key pattern', (T) => T.Record(T.String({ pattern: '^-?[A-Za-z0-9_]{1,64}$' }), T.Enum(['x', 'y']), { default: {}, description: 'd' })],
  ['Optional leaves the original as it was', (T) => {
    const inner = T.String()
    return [T.Object({ a: T.Optional(inner), b: inner }), inner]
  }]
]

for (const [name, make] of CASES) {
  test(`Type.${name}: the same JSON Schema as TypeBox's, key order included`, () => {
    const ours = make(Type)
    const theirs = make(TypeBox as unknown as Builder)
    assert.equal(JSON.stringify(ours), JSON.stringify(theirs))
  })
}

test('TypeBox checks our schemas as its own and words the same errors', () => {
  const make = (T: Builder) => T.Object({
    id: T.String({ minLength: 1 }),
    mode: T.Union([T.Literal('wake'), T.Literal('cron_task')]),
    port: T.Union([T.Null(), T.Integer({ minimum: 0, maximum: 65535 })], { default: null }),
    tags: T.Optional(T.Array(T.String())),
    chats: T.Record(T.String({ pattern: '^[a-z]+$' }), T.Enum(['yes', 'no']))
  }, { additionalProperties: false })
  const ours = make(Type)
  const theirs = make(TypeBox as unknown as Builder)
  const values: unknown[] = [
    { id: 'a', mode: 'wake', port: null, chats: {} },
    { id: '', mode: 'nap', port: 70000, tags: [1], chats: { ok: 'maybe' }, extra: 1 },
    { mode: 'cron_task', port: 1.5, chats: [] },
    'not an object',
    null
  ]
  for (const value of values) {
    assert.equal(Value.Check(ours as never, value), Value.Check(theirs as never, value), JSON.stringify(value))
    assert.deepEqual([...Value.Errors(ours as never, value)], [...Value.Errors(theirs as never, value)], JSON.stringify(value))
  }
})

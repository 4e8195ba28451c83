// The idle path's defaults and check (src/schema-value.ts, ADR 47) against TypeBox's own
// Value.Default and Value.Check, over generated documents for every schema that goes through them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import { Value } from 'typebox/value'
import { Type as TypeBox, type TSchema } from 'typebox'
import { ConfigSchema, StreamingSchema } from '../src/config-schema.ts'
import { HookSchema } from '../src/webhooks/hook-schema.ts'
import { CronJobCreateSchema, CronJobPatchSchema, CronJobSchema, CronJobsFileSchema } from '../src/automation/cron-schema.ts'
import { fillDefaults, surelyValid } from '../src/schema-value.ts'
import { seededRandom } from './helper.ts'

const seed = Number(process.env['TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31))
const random = seededRandom(seed)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T

const STRINGS = ['', ' ', 'a', 'ab', 'x'.repeat(70), '😀', '😀😀', 'e\u0301', '\r\n', '-12', 'chat_1', 'Europe/Berlin', 'UTC', 'claude', 'codex', 'auto', 'polling', 'all', 'bearer', 'hmac', 'standard', 'sha256', 'base64', 'github', 'INFO', 'debug', 'ask', 'yolo', 'plan', '0 9 * * *', 'wake', 'cron_task', 'null', '127.0.0.1']
const NUMBERS = [0, 1, -1, 0.5, 2, 23, 24, 59, 60, 100, 4096, 4097, 65535, 65536, 604800, 604801, 1e9, -0, 1.5, Number.MAX_SAFE_INTEGER]

function randomValue (depth = 0): unknown {
  switch (Math.floor(random() * (depth > 1 ? 5 : 7))) {
    case 0: return pick(STRINGS)
    case 1: return pick(NUMBERS)
    case 2: return random() < 0.5
    case 3: return null
    case 4: return undefined
    case 5: return Array.from({ length: Math.floor(random() * 3) }, () => randomValue(depth + 1))
    default: return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, () => [pick(['a', 'enabled', 'port', '1', 'x']), randomValue(depth + 1)]))
  }
}

/** A value shaped like `schema` (mostly valid), with random wrong leaves, missing keys and extra keys. */
function generate (schema: TSchema, wrongness: number, depth = 0): unknown {
  const s = schema as Record<string, unknown>
  if (random() < wrongness) return randomValue(depth)
  if (Array.isArray(s['anyOf'])) return generate(pick(s['anyOf'] as TSchema[]), wrongness, depth)
  if (s['const'] !== undefined) return s['const']
  if (Array.isArray(s['enum'])) return pick(s['enum'] as unknown[])
  switch (s['type']) {
    case 'object': {
      const out: Record<string, unknown> = {}
      const props = (s['properties'] ?? {}) as Record<string, TSchema>
      const required = (s['required'] ?? []) as string[]
      for (const [key, prop] of Object.entries(props)) {
        // Missing: the default fills it, or the check refuses it (rarely, for a required key without one).
        const optional = !required.includes(key) || Object.hasOwn(prop, 'default')
        if (random() < (optional ? 0.3 : 0.02)) continue
        out[key] = generate(prop, wrongness, depth + 1)
      }
      const pattern = s['patternProperties'] as Record<string, TSchema> | undefined
      if (pattern !== undefined) for (let i = 0; i < 3; i++) out[pick(wrongness === 0 ? ['-100123', 'chat_7'] : ['-100123', 'chat_7', 'bad key', '', 'x'.repeat(70)])] = generate(Object.values(pattern)[0] as TSchema, wrongness, depth + 1)
      if (random() < 0.2) out[pick(['extra', 'ductor_home', 'cli_timout'])] = randomValue(depth + 1)
      return out
    }
    case 'array': return Array.from({ length: Math.floor(random() * 3) }, () => generate(s['items'] as TSchema, wrongness, depth + 1))
    case 'string': return random() < 0.8 || wrongness === 0 ? pick(STRINGS.filter((x) => x !== '' && x.length < 64)) : pick(STRINGS)
    case 'integer': {
      const lo = typeof s['minimum'] === 'number' ? s['minimum'] : 0
      const hi = typeof s['maximum'] === 'number' ? s['maximum'] : lo + 100
      return random() < 0.8 || wrongness === 0 ? Math.floor(lo + random() * (hi - lo + 1)) : pick(NUMBERS)
    }
    case 'number': return random() < 0.8 || wrongness === 0 ? 0.5 + random() * 50 : pick(NUMBERS)
    case 'boolean': return random() < 0.5
    case 'null': return null
    default: return randomValue(depth)
  }
}

/**
 * The same schema built by TypeBox's own `Type` (the service builds its schemas with src/schema-type.ts,
 * as plain JSON Schema; Value.Default needs TypeBox's marks to fill anything).
 */
function toTypeBox (schema: TSchema): TSchema {
  const { type, anyOf, const: constant, enum: values, properties, required, items, patternProperties, ...options } = schema as Record<string, unknown>
  if (Array.isArray(anyOf)) return TypeBox.Union(anyOf.map(toTypeBox), options)
  if (constant !== undefined) return TypeBox.Literal(constant as string, options)
  if (Array.isArray(values)) return TypeBox.Enum(values as string[], options)
  switch (type) {
    case 'object': {
      if (patternProperties !== undefined) {
        const [pattern, value] = Object.entries(patternProperties as Record<string, TSchema>)[0] as [string, TSchema]
        return TypeBox.Record(pattern === '^.*$' ? TypeBox.String() : TypeBox.String({ pattern }), toTypeBox(value), options)
      }
      const need = (required ?? []) as string[]
      return TypeBox.Object(Object.fromEntries(Object.entries(properties as Record<string, TSchema>).map(([key, prop]) =>
        [key, need.includes(key) ? toTypeBox(prop) : TypeBox.Optional(toTypeBox(prop))])), options)
    }
    case 'array': return TypeBox.Array(toTypeBox(items as TSchema), options)
    case 'string': return TypeBox.String(options)
    case 'integer': return TypeBox.Integer(options)
    case 'number': return TypeBox.Number(options)
    case 'boolean': return TypeBox.Boolean(options)
    case 'null': return TypeBox.Null(options)
    default: return TypeBox.Unknown(options)
  }
}

const SCHEMAS: Array<[string, TSchema, { defaults: boolean }]> = [
  ['config', ConfigSchema, { defaults: true }],
  ['streaming', StreamingSchema, { defaults: true }],
  ['hook', HookSchema, { defaults: true }],
  ['cron_jobs.json', CronJobsFileSchema, { defaults: false }],
  ['cron job', CronJobSchema, { defaults: false }],
  ['cron create', CronJobCreateSchema, { defaults: false }],
  ['cron patch', CronJobPatchSchema, { defaults: false }]
]

for (const [name, schema, { defaults }] of SCHEMAS) {
  test(`${name}: fillDefaults is Value.Default, and surelyValid never accepts what Value.Check refuses (seed ${seed})`, () => {
    const reference = toTypeBox(schema)
    assert.equal(JSON.stringify(reference), JSON.stringify(schema))
    let fast = 0
    let valid = 0
    for (let i = 0; i < 400; i++) {
      const wrongness = pick([0, 0, 0.02, 0.1, 0.3])
      const raw = generate(schema, wrongness)
      const ours = fillDefaults(schema, structuredClone(raw))
      if (defaults) assert.deepEqual(ours, Value.Default(reference, structuredClone(raw)), `${name}, seed ${seed}, document ${i}: ${JSON.stringify(raw)}`)
      for (const value of [raw, ours]) {
        const typebox = Value.Check(reference, value)
        assert.equal(Value.Check(schema, value), typebox, 'TypeBox checks the plain schema as its own')
        if (!typebox) assert.deepEqual([...Value.Errors(schema, value)], [...Value.Errors(reference, value)], 'and words the same errors')
        const sure = surelyValid(schema, value)
        if (sure) assert.ok(typebox, `${name}, seed ${seed}, document ${i}: surelyValid accepted what TypeBox refuses: ${JSON.stringify(value)}`)
        // What the service checks was read from JSON: no undefined anywhere (which surelyValid leaves to TypeBox).
        const json = isDeepStrictEqual(JSON.parse(JSON.stringify(value) ?? 'null'), value)
        if (typebox && json) valid++
        if (typebox && json && sure) fast++
        if (typebox && json && !sure && process.env['SHOW_SLOW'] !== undefined) console.log('slow path:', JSON.stringify(value))
      }
    }
    // The point of the module: valid documents take the path that loads nothing.
    assert.ok(valid > 20, `${name}: only ${valid} valid documents generated`)
    assert.equal(fast, valid, `${name}: ${valid - fast} of ${valid} valid documents were not recognised without TypeBox`)
  })
}

test('the defaults of an empty config and of the streaming section are TypeBox\'s', () => {
  assert.deepEqual(fillDefaults(ConfigSchema, {}), Value.Default(toTypeBox(ConfigSchema), {}))
  assert.deepEqual(fillDefaults(StreamingSchema, {}), Value.Default(toTypeBox(StreamingSchema), {}))
  assert.ok(surelyValid(ConfigSchema, fillDefaults(ConfigSchema, {})))
})

test('a schema shape fillDefaults does not handle is refused, never half-filled', () => {
  const union = { anyOf: [{ type: 'object', properties: { a: { type: 'string', default: 'x' } } }, { type: 'null' }] } as unknown as TSchema
  assert.throws(() => fillDefaults(union, {}), /not supported/)
  // An unknown keyword is never vouched for: TypeBox decides.
  assert.equal(surelyValid({ type: 'string', format: 'email' } as unknown as TSchema, 'a@b.c'), false)
  assert.equal(surelyValid({ type: 'integer', multipleOf: 2 } as unknown as TSchema, 4), false)
})
